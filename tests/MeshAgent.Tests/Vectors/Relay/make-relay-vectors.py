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
    "JoinSend": 13, "JoinRecv": 14, "JoinReply": 15, "JoinDeliver": 16, "JoinUnreachable": 17,
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

# Joining through the relay: join messages are 'm','j', version 1, type, session id (uint32), body
# (Core/Invitations/JoinMessages.cs); a joiner sends Hello (1) / Request (4), an inviter Challenge (2) / Refusal (3) / Response (5).
network = pattern(12, 32)
channel = 0x0A0B0C0D0E0F1011
join_hello = b"mj" + bytes([1, 1]) + struct.pack(">I", 0x01020304) + pattern(10, 56)
join_challenge = b"mj" + bytes([1, 2]) + struct.pack(">I", 0x01020304) + pattern(11, 48)
case([("frame", "JoinSend"), ("network", network), ("peer", peer), ("message", join_hello),
      ("bytes", header("JoinSend") + network + peer + join_hello)])
case([("frame", "JoinRecv"), ("channel", "%016x" % channel), ("message", join_hello),
      ("bytes", header("JoinRecv") + struct.pack(">Q", channel) + join_hello)])
case([("frame", "JoinReply"), ("token", "%016x" % token), ("channel", "%016x" % channel), ("message", join_challenge),
      ("bytes", header("JoinReply") + struct.pack(">QQ", token, channel) + join_challenge)])
case([("frame", "JoinDeliver"), ("message", join_challenge), ("bytes", header("JoinDeliver") + join_challenge)])
case([("frame", "JoinUnreachable"), ("network", network), ("peer", peer),
      ("bytes", header("JoinUnreachable") + network + peer)])

# The Auth proof: Ed25519 by the client's identity over context || 0x00 || relay key || nonce || client key.
client_seed = seed(100)
client_key = public_key(client_seed)
relay_key = public_key(seed(50))
signed = AUTH_CONTEXT + b"\x00" + relay_key + nonce + client_key
proof = Ed25519PrivateKey.from_private_bytes(client_seed).sign(signed)
case([("frame", "AuthProof"), ("client-seed", client_seed), ("client", client_key), ("relay", relay_key), ("nonce", nonce),
      ("signed", signed), ("signature", proof)])
