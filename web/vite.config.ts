// The dashboard's build: Svelte 5 through Vite into web/dist, which the hub serves. No inline
// scripts or styles in the output, so the hub's Content-Security-Policy can forbid them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  plugins: [svelte()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    // Everything as files: a data: URL or an inline module would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
});
