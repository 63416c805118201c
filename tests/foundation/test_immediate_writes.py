"""config/immediate_writes.py on real sockets: what is written goes out at once when it can, and in
order through Twisted's own path when the socket is full. Twisted's ``MemoryReactor`` stands in
for the event loop, recording which descriptors wait for writability."""

import socket

import pytest
from twisted.internet.abstract import FileDescriptor
from twisted.internet.testing import MemoryReactor

from config import immediate_writes

immediate_writes.install()  # what config/asgi.py does under daphne


class SocketWriter(FileDescriptor):
    """A Twisted descriptor writing to one end of a real socket pair (as tcp.Connection does)."""

    def __init__(self, sock, reactor):
        super().__init__(reactor)
        self.socket = sock
        self.connected = 1

    def fileno(self):
        return self.socket.fileno()

    def writeSomeData(self, data):
        try:
            return self.socket.send(data)
        except BlockingIOError:
            return 0


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # the kernel's minimum: easy to fill
    a.setblocking(False)
    b.settimeout(5)
    yield a, b
    a.close()
    b.close()


def read_all(sock, size):
    data = b""
    while len(data) < size:
        data += sock.recv(1 << 16)
    return data


def test_install_patches_twisteds_writes():
    assert FileDescriptor.write is immediate_writes._write
    assert FileDescriptor.writeSequence is immediate_writes._write_sequence


def test_a_write_to_an_idle_connection_is_sent_at_once_without_waiting_for_the_loop(pair):
    sender, receiver = pair
    reactor = MemoryReactor()
    writer = SocketWriter(sender, reactor)

    writer.writeSequence([b"3\r\n", b"abc", b"\r\n"])
    writer.write(b"event: tick_update\n\n")

    assert receiver.recv(100) == b"3\r\nabc\r\nevent: tick_update\n\n"
    assert reactor.getWriters() == []  # never registered for writability


def test_what_the_socket_does_not_take_goes_out_later_in_order(pair):
    sender, receiver = pair
    reactor = MemoryReactor()
    writer = SocketWriter(sender, reactor)
    first, second = bytes(range(256)) * 2048, b"the next event"  # 512 KB: more than the socket holds

    writer.write(first)
    assert reactor.getWriters() == [writer]  # the rest waits for writability, the usual way
    writer.write(second)  # not idle: buffered behind the rest, not sent ahead of it
    received = b""
    while reactor.getWriters():  # the event loop: the socket is writable once the reader reads
        received += receiver.recv(1 << 16)
        writer.doWrite()
    received += read_all(receiver, len(first) + len(second) - len(received))

    assert received == first + second


def test_a_paused_producer_keeps_twisteds_path(pair):
    sender, receiver = pair
    reactor = MemoryReactor()
    writer = SocketWriter(sender, reactor)

    class Producer:
        def pauseProducing(self):
            pass

        def resumeProducing(self):
            pass

        def stopProducing(self):
            pass

    writer.registerProducer(Producer(), True)
    writer.producerPaused = True
    writer.write(b"later")

    assert reactor.getWriters() == [writer]
    writer.doWrite()
    assert receiver.recv(100) == b"later"


def test_nothing_is_written_once_the_connection_is_lost(pair):
    sender, receiver = pair
    writer = SocketWriter(sender, MemoryReactor())
    writer.connected = 0

    writer.write(b"gone")

    receiver.settimeout(0.2)
    with pytest.raises(TimeoutError):
        receiver.recv(100)
