/**
 * The test proxy's pause (used by the chaos run to stall PostgreSQL): held bytes are neither lost
 * nor reordered, both directions stop, and a connection opened during the pause is held too.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { startTcpProxy } from './helpers/tcpProxy.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An echo server on loopback. */
async function echoServer(): Promise<net.Server> {
  const srv = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

/** Connects to `port` and collects what comes back. */
async function client(port: number): Promise<{ socket: Socket; received: () => string }> {
  const socket = net.connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => got };
}

describe('TCP proxy pause', () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('holds bytes both ways while paused and delivers them intact, in order, after resume()', async () => {
    const echo = await echoServer();
    closers.push(() => new Promise((r) => echo.close(r)));
    const proxy = await startTcpProxy((echo.address() as AddressInfo).port);
    closers.push(() => proxy.close());
    const c = await client(proxy.port);
    closers.push(() => c.socket.destroy());
    c.socket.write('a');
    await sleep(100);
    assert.equal(c.received(), 'a');
    proxy.pause();
    for (const x of ['b', 'c', 'd']) c.socket.write(x);
    await sleep(400);
    assert.equal(c.received(), 'a', 'nothing crosses a paused proxy');
    proxy.resume();
    await sleep(200);
    assert.equal(c.received(), 'abcd');
    assert.equal(proxy.mode, 'pass');
  });

  it('a connection opened during a pause is held until resume()', async () => {
    const echo = await echoServer();
    closers.push(() => new Promise((r) => echo.close(r)));
    const proxy = await startTcpProxy((echo.address() as AddressInfo).port);
    closers.push(() => proxy.close());
    proxy.pause();
    const c = await client(proxy.port);
    closers.push(() => c.socket.destroy());
    c.socket.write('hello');
    await sleep(300);
    assert.equal(c.received(), '');
    proxy.resume();
    await sleep(200);
    assert.equal(c.received(), 'hello');
  });

  it('sever() during a pause cuts the held connections', async () => {
    const echo = await echoServer();
    closers.push(() => new Promise((r) => echo.close(r)));
    const proxy = await startTcpProxy((echo.address() as AddressInfo).port);
    closers.push(() => proxy.close());
    const c = await client(proxy.port);
    const closed = new Promise<void>((r) => c.socket.once('close', () => r()));
    c.socket.on('error', () => undefined);
    proxy.pause();
    c.socket.write('x');
    proxy.sever();
    await closed;
    proxy.restore();
    const d = await client(proxy.port);
    closers.push(() => d.socket.destroy());
    d.socket.write('y');
    await sleep(200);
    assert.equal(d.received(), 'y');
  });
});
