// The terminal view (xterm.js) sizes and colours itself with <style> elements it creates. The
// Content-Security-Policy lets in only the styles of this origin's files and those carrying this
// response's nonce, which the hub writes into the page. While a terminal is being opened, style
// elements get the nonce; nothing else on the page makes any.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="vigil-style-nonce"]')?.content ?? '';

export function withStyleNonce<T>(create: () => T): T {
  const original = document.createElement;
  document.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
    const element = original.call(this, tag, options);
    if (tag.toLowerCase() === 'style' && nonce) element.setAttribute('nonce', nonce);
    return element;
  } as typeof document.createElement;
  try {
    return create();
  } finally {
    document.createElement = original;
  }
}
