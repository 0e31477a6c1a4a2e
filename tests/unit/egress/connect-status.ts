import net from 'node:net';

/**
 * Sends one CONNECT to the proxy on loopback `port` (from `localAddress`, a client network's address, when
 * given); resolves with the status line once it comes, or '' when the socket closes or fails first.
 */
export function connectStatus(port: number, target: string, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
    let buffer = '';
    const done = () => {
      socket.destroy();
      resolve(buffer.split('\r\n')[0] ?? '');
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes('\r\n')) done();
    });
    socket.once('close', done);
    socket.once('error', done);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}
