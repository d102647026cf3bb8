// An Express app (createApiApp) on a real HTTP server for API tests, on the given port (0: a free
// one), and its closing.
import http from 'node:http';
import type net from 'node:net';
import type { RequestListener } from 'node:http';

export interface ServedApp {
  server: http.Server;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export async function serveApp(app: RequestListener, port = 0): Promise<ServedApp> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { server, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
