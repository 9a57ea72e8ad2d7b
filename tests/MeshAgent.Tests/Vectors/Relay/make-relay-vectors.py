#!/usr/bin/env python3
"""Independent model of the meshrelay frame layouts, used to produce frames.txt.

Written from the layout table in agent/MeshAgent.Core/Relay/RelayProtocol.cs, not from the C# code:
plain struct packing (big-endian) and Ed25519 from the Python 'cryptography' package. If the C#
codec and this script ever disagree, one of them misreads the documented layout.

Run: python3 make-relay-vectors.py > frames.txt
"""
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TYPES = {
    "ClientHello": 1, "Challenge": 2, "Auth": 3, "Welcome": 4, "Refused": 5, "Send": 6, "Recv": 7,
    "Keepalive": 8, "KeepaliveAck": 9, "UnknownPeer": 10, "SessionUnknown": 11, "RevocationPush": 12,
}
AUTH_CONTEXT = b"meshagent relay auth v1"


def header(name):
    return b"mr" + bytes([1, TYPES[name]])


def pattern(tag, n):
    # Deterministic, distinct filler: byte i = tag*7 + i (mod 256).
    return bytes((tag * 7 + i) % 256 for i in range(n))


def seed(tag):
    # Same rule as TrustFixtures.Seed in the C# tests: byte i = tag*31 + i.
    return bytes((tag * 31 + i) % 256 for i in range(32))


def public_key(seed_bytes):
    return Ed25519PrivateKey.from_private_bytes(seed_bytes).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def case(fields):
    for key, value in fields:
        if isinstance(value, bytes):
            value = value.hex()
        print(f"{key} = {value}")
    print()


client = pattern(1, 32)
relay = pattern(2, 32)
peer = pattern(3, 32)
nonce = pattern(4, 32)
signature = pattern(5, 64)
certificate = pattern(6, 190)
revocation = pattern(8, 120)
payload = pattern(9, 148)
token = 0x0123456789ABCDEF
time_ms = 1_700_000_000_123

print("# meshrelay frame vectors: every frame type from fixed fields.")
print("# Source: agent/MeshAgent.Core/Relay/RelayProtocol.cs layout table, modelled independently by")
print("# make-relay-vectors.py in this directory (struct packing, big-endian; Ed25519 from 'cryptography').")
print("# Regenerate: python3 make-relay-vectors.py > frames.txt")
print()

case([("frame", "ClientHello"), ("client", client), ("bytes", header("ClientHello") + client + bytes(44))])
case([("frame", "Challenge"), ("relay", relay), ("nonce", nonce), ("time", time_ms),
      ("bytes", header("Challenge") + relay + nonce + struct.pack(">q", time_ms))])
case([("frame", "Auth"), ("client", client), ("nonce", nonce), ("signature", signature), ("certificate", certificate),
      ("bytes", header("Auth") + client + nonce + signature + struct.pack(">H", len(certificate)) + certificate)])
case([("frame", "Welcome"), ("nonce", nonce), ("token", "%016x" % token), ("keepalive", 25), ("idle", 60),
      ("bytes", header("Welcome") + nonce + struct.pack(">QHH", token, 25, 60))])
case([("frame", "Refused"), ("nonce", nonce), ("reason", 2), ("bytes", header("Refused") + nonce + bytes([2]))])
case([("frame", "Send"), ("token", "%016x" % token), ("peer", peer), ("payload", payload),
      ("bytes", header("Send") + struct.pack(">Q", token) + peer + payload)])
case([("frame", "Send"), ("token", "%016x" % token), ("peer", peer), ("payload", b""),
      ("bytes", header("Send") + struct.pack(">Q", token) + peer)])
case([("frame", "Recv"), ("peer", peer), ("payload", payload), ("bytes", header("Recv") + peer + payload)])
for name in ("Keepalive", "KeepaliveAck", "SessionUnknown"):
    case([("frame", name), ("token", "%016x" % token), ("bytes", header(name) + struct.pack(">Q", token))])
case([("frame", "UnknownPeer"), ("token", "%016x" % token), ("peer", peer),
      ("bytes", header("UnknownPeer") + struct.pack(">Q", token) + peer)])
case([("frame", "RevocationPush"), ("token", "%016x" % token), ("revocation", revocation),
      ("bytes", header("RevocationPush") + struct.pack(">Q", token) + revocation)])

# The Auth proof: Ed25519 by the client's identity over context || 0x00 || relay key || nonce || client key.
client_seed = seed(100)
client_key = public_key(client_seed)
relay_key = public_key(seed(50))
signed = AUTH_CONTEXT + b"\x00" + relay_key + nonce + client_key
proof = Ed25519PrivateKey.from_private_bytes(client_seed).sign(signed)
case([("frame", "AuthProof"), ("client-seed", client_seed), ("client", client_key), ("relay", relay_key), ("nonce", nonce),
      ("signed", signed), ("signature", proof)])
