#!/usr/bin/python3
"""A tiny DNS server for the relay test: answers every A query with ADDR,
every other query with no answer.  Usage: tiny-dns.py LISTEN_IP ADDR PIDFILE"""
import socket
import struct
import sys

listen, addr, pidfile = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((listen, 53))
with open(pidfile, "w") as f:
    f.write("%d\n" % __import__("os").getpid())
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    # the question: labels up to the 0 byte, then QTYPE, QCLASS
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    question = q[12:i + 5]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    answers = b""
    if qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    header = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0)
    s.sendto(header + question + answers, peer)
