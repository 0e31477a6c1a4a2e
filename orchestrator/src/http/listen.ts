import { chmod, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type express from 'express';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

export function listenTcp(app: express.Express, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = net.connect(socketPath);
    connection.once('connect', () => {
      connection.destroy();
      resolve(true);
    });
    connection.once('error', () => resolve(false));
  });
}

/** Listens on a unix socket only its owner can use; a stale socket file left by a crash is replaced. */
export async function listenUnixSocket(app: express.Express, socketPath: string): Promise<http.Server> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  if (await socketAnswers(socketPath)) {
    throw new FleetError('conflict', `another orchestrator is already serving ${socketPath}`);
  }
  await rm(socketPath, { force: true });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return server;
}
