#!/usr/bin/env python3
"""A TCP proxy that adds a round trip time (RTT) in front of a server, for benches/latency.sh.

    delay_proxy.py LISTEN_PORT UPSTREAM_PORT RTT_MS [--service-ms MS] [--max-seconds S]

Loopback only (127.0.0.1 on both sides). It models a link with RTT_MS of round trip:

- every chunk read from one side is written to the other RTT/2 after it was read, in the order read
  (each direction of each connection has its own queue and writer, so a delay never holds back
  another connection, nor the other direction of the same one: long-polling requests and WebSocket
  frames flow as on a real link);
- a new connection costs one RTT before its first byte can travel, as TCP's handshake does: the
  client's first bytes reach the server at accept + RTT + RTT/2, so the first answer arrives two RTTs
  after connect(), as it would across a WAN;
- a side that closes (or half-closes) is passed on after RTT/2 too, behind the data before it;
- with --service-ms, the server's first chunk after each chunk the client sent waits that much more:
  a server that takes MS to answer each request (a slow lab), one answer at a time per connection.

It exits by itself after --max-seconds (default 1800), so a bench that dies cannot leave it behind.
"""

import argparse
import asyncio
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("listen", type=int)
    p.add_argument("upstream", type=int)
    p.add_argument("rtt_ms", type=float)
    p.add_argument("--service-ms", type=float, default=0.0)
    p.add_argument("--max-seconds", type=float, default=1800.0)
    return p.parse_args()


async def pump(reader, writer, half, not_before, extra=lambda: 0.0):
    """Reads from `reader` and writes each chunk to `writer` `half` seconds later (never before
    `not_before`), in order. The reading never waits on the writing, so a chunk's delay is measured
    from when it was read."""
    queue = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read():
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((max(loop.time(), not_before) + half + (extra() if data else 0.0), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time() + half, b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    reading = asyncio.ensure_future(read())
    try:
        await write()
    finally:
        reading.cancel()


async def handle(client_reader, client_writer, upstream, rtt, service):
    loop = asyncio.get_running_loop()
    accepted = loop.time()
    half = rtt / 2
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
    except OSError:
        client_writer.close()
        return
    # Whether the client has sent something the server has not answered yet (see --service-ms).
    asked = [False]

    def client_sent():
        asked[0] = True
        return 0.0

    def server_answers():
        if not asked[0]:
            return 0.0
        asked[0] = False
        return service

    # The handshake's round trip: nothing the client sends can reach the server before accept + RTT.
    await asyncio.gather(
        pump(client_reader, up_writer, half, accepted + rtt, client_sent),
        pump(up_reader, client_writer, half, accepted, server_answers),
    )
    for w in (up_writer, client_writer):
        try:
            w.close()
        except OSError:
            pass


async def main():
    args = parse()
    rtt = args.rtt_ms / 1000.0
    service = args.service_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.upstream, rtt, service), "127.0.0.1", args.listen, backlog=1024
    )
    started = time.monotonic()
    async with server:
        await server.start_serving()
        while time.monotonic() - started < args.max_seconds:
            await asyncio.sleep(1)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
