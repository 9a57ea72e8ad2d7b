using System.Text.Json;
using MeshAgent.Core.Noise;

namespace MeshAgent.Tests.Noise;

/// <summary>
/// Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s against the cacophony vector (all 6 messages:
/// 2 handshake, 4 transport), with the vector's fixed ephemeral keys injected.
/// </summary>
public sealed class CacophonyVectorTests
{
    private sealed class FixedEphemeral(byte[] key) : IEphemeralKeySource
    {
        public void GeneratePrivateKey(Span<byte> privateKey) => key.CopyTo(privateKey);
    }

    private static JsonElement LoadVector()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", "Noise", "cacophony-IKpsk2_25519_ChaChaPoly_BLAKE2s.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("vector").Clone();
    }

    private static byte[] Hex(JsonElement element, string name) => Convert.FromHexString(element.GetProperty(name).GetString()!);

    [Fact]
    public void IKpsk2_matches_all_six_cacophony_messages()
    {
        JsonElement v = LoadVector();
        Assert.Equal("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", v.GetProperty("protocol_name").GetString());
        byte[] protocolName = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8.ToArray();
        byte[] initPsk = Convert.FromHexString(v.GetProperty("init_psks")[0].GetString()!);
        byte[] respPsk = Convert.FromHexString(v.GetProperty("resp_psks")[0].GetString()!);

        using var initiator = new HandshakeState(HandshakePattern.IKpsk2, protocolName, initiator: true,
            Hex(v, "init_prologue"), Hex(v, "init_static"), Hex(v, "init_remote_static"), initPsk,
            new FixedEphemeral(Hex(v, "init_ephemeral")));
        using var responder = new HandshakeState(HandshakePattern.IKpsk2, protocolName, initiator: false,
            Hex(v, "resp_prologue"), Hex(v, "resp_static"), ReadOnlySpan<byte>.Empty, respPsk,
            new FixedEphemeral(Hex(v, "resp_ephemeral")));

        JsonElement[] messages = v.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(6, messages.Length);

        // Handshake: message 0 initiator → responder, message 1 responder → initiator.
        var buffer = new byte[1024];
        var payload = new byte[1024];
        for (int i = 0; i < 2; i++)
        {
            byte[] expectedPayload = Hex(messages[i], "payload");
            byte[] expectedCiphertext = Hex(messages[i], "ciphertext");
            HandshakeState writer = i == 0 ? initiator : responder;
            HandshakeState reader = i == 0 ? responder : initiator;

            Assert.Equal(expectedCiphertext.Length, writer.GetMessageLength(expectedPayload.Length));
            int written = writer.WriteMessage(expectedPayload, buffer);
            Assert.Equal(Convert.ToHexString(expectedCiphertext), Convert.ToHexString(buffer, 0, written));

            Assert.True(reader.TryReadMessage(expectedCiphertext, payload, out int read));
            Assert.Equal(expectedPayload, payload.AsSpan(0, read).ToArray());
        }

        Assert.True(initiator.IsComplete);
        Assert.True(responder.IsComplete);
        Assert.Equal(Convert.ToHexString(Hex(v, "handshake_hash")), Convert.ToHexString(initiator.HandshakeHash));
        Assert.Equal(Convert.ToHexString(Hex(v, "handshake_hash")), Convert.ToHexString(responder.HandshakeHash));

        // Transport: Split gives (c1 initiator→responder, c2 responder→initiator); the vector
        // alternates senders starting with the initiator.
        var k1 = new byte[32];
        var k2 = new byte[32];
        initiator.Split(k1, k2);
        var r1 = new byte[32];
        var r2 = new byte[32];
        responder.Split(r1, r2);
        Assert.Equal(k1, r1);
        Assert.Equal(k2, r2);

        using var initiatorToResponder = new CipherState();
        initiatorToResponder.InitializeKey(k1);
        using var responderToInitiator = new CipherState();
        responderToInitiator.InitializeKey(k2);
        using var decryptAtResponder = new CipherState();
        decryptAtResponder.InitializeKey(r1);
        using var decryptAtInitiator = new CipherState();
        decryptAtInitiator.InitializeKey(r2);

        for (int i = 2; i < 6; i++)
        {
            byte[] expectedPayload = Hex(messages[i], "payload");
            byte[] expectedCiphertext = Hex(messages[i], "ciphertext");
            bool fromInitiator = i % 2 == 0;
            CipherState sender = fromInitiator ? initiatorToResponder : responderToInitiator;
            CipherState receiver = fromInitiator ? decryptAtResponder : decryptAtInitiator;

            int written = sender.EncryptWithAd(ReadOnlySpan<byte>.Empty, expectedPayload, buffer);
            Assert.Equal(Convert.ToHexString(expectedCiphertext), Convert.ToHexString(buffer, 0, written));
            Assert.True(receiver.TryDecryptWithAd(ReadOnlySpan<byte>.Empty, expectedCiphertext, payload, out int read));
            Assert.Equal(expectedPayload, payload.AsSpan(0, read).ToArray());
        }
    }

    [Fact]
    public void Responder_learns_the_initiator_static_key()
    {
        JsonElement v = LoadVector();
        byte[] protocolName = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8.ToArray();
        byte[] psk = Convert.FromHexString(v.GetProperty("init_psks")[0].GetString()!);
        using var initiator = new HandshakeState(HandshakePattern.IKpsk2, protocolName, true, Hex(v, "init_prologue"),
            Hex(v, "init_static"), Hex(v, "init_remote_static"), psk);
        using var responder = new HandshakeState(HandshakePattern.IKpsk2, protocolName, false, Hex(v, "resp_prologue"),
            Hex(v, "resp_static"), ReadOnlySpan<byte>.Empty, psk);
        var message = new byte[256];
        int length = initiator.WriteMessage("hi"u8, message);
        Assert.True(responder.TryReadMessage(message.AsSpan(0, length), new byte[16], out _));

        var expected = new byte[32];
        MeshAgent.Core.Crypto.X25519.DerivePublicKey(Hex(v, "init_static"), expected);
        Assert.Equal(expected, responder.RemoteStaticPublicKey.ToArray());
    }

    [Fact]
    public void Tampered_messages_and_wrong_psk_are_rejected_without_throwing()
    {
        JsonElement v = LoadVector();
        byte[] protocolName = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8.ToArray();
        byte[] psk = Convert.FromHexString(v.GetProperty("init_psks")[0].GetString()!);
        var rng = new Random(7);
        var message = new byte[256];
        for (int trial = 0; trial < 200; trial++)
        {
            using var initiator = new HandshakeState(HandshakePattern.IKpsk2, protocolName, true, Hex(v, "init_prologue"),
                Hex(v, "init_static"), Hex(v, "init_remote_static"), psk);
            using var responder = new HandshakeState(HandshakePattern.IKpsk2, protocolName, false, Hex(v, "resp_prologue"),
                Hex(v, "resp_static"), ReadOnlySpan<byte>.Empty, psk);
            int length = initiator.WriteMessage("payload"u8, message);
            byte[] tampered = message.AsSpan(0, length).ToArray();
            if (trial % 3 == 0)
            {
                tampered = tampered.AsSpan(0, rng.Next(tampered.Length)).ToArray();
            }
            else
            {
                tampered[rng.Next(tampered.Length)] ^= (byte)(1 << rng.Next(8));
            }

            Assert.False(responder.TryReadMessage(tampered, new byte[64], out _));
        }

        // Wrong PSK on the responder: message 1 reads (psk2 is used only in message 2), message 2 fails.
        using var i2 = new HandshakeState(HandshakePattern.IKpsk2, protocolName, true, Hex(v, "init_prologue"),
            Hex(v, "init_static"), Hex(v, "init_remote_static"), psk);
        using var r2 = new HandshakeState(HandshakePattern.IKpsk2, protocolName, false, Hex(v, "resp_prologue"),
            Hex(v, "resp_static"), ReadOnlySpan<byte>.Empty, new byte[32]);
        int l1 = i2.WriteMessage(default, message);
        Assert.True(r2.TryReadMessage(message.AsSpan(0, l1), new byte[16], out _));
        int l2 = r2.WriteMessage(default, message);
        Assert.False(i2.TryReadMessage(message.AsSpan(0, l2), new byte[16], out _));
    }
}
