// Starts a listener (net, TLS, HTTP, HTTP/2 or ssh2's server: all net.Server underneath) and says
// where it listens, or why it cannot, naming what it was for.
import type net from 'node:net';

export function listenOn(server: Pick<net.Server, 'once' | 'off' | 'listen' | 'address'>, host: string, port: number, what: string): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port} for ${what}: ${err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}
