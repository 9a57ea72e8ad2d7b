using System.Text.Json;
using MeshAgent.Core.Noise;

namespace MeshAgent.Tests.Invitations;

/// <summary>
/// The NKpsk2 pattern the join exchange runs on, against the cacophony vector for
/// Noise_NKpsk2_25519_ChaChaPoly_BLAKE2s (both handshake messages, the handshake hash and four
/// transport messages), with the vector's fixed ephemeral keys injected.
/// </summary>
public sealed class NKpsk2VectorTests
{
    private sealed class FixedEphemeral(byte[] key) : IEphemeralKeySource
    {
        public void GeneratePrivateKey(Span<byte> privateKey) => key.CopyTo(privateKey);
    }

    private static byte[] Hex(JsonElement element, string name) => Convert.FromHexString(element.GetProperty(name).GetString()!);

    [Fact]
    public void NKpsk2_matches_all_six_cacophony_messages()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", "Invitations", "cacophony-NKpsk2_25519_ChaChaPoly_BLAKE2s.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement v = document.RootElement.GetProperty("vector");
        byte[] protocolName = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2s"u8.ToArray();
        Assert.Equal("Noise_NKpsk2_25519_ChaChaPoly_BLAKE2s", v.GetProperty("protocol_name").GetString());

        using var initiator = new HandshakeState(HandshakePattern.NKpsk2, protocolName, initiator: true,
            Hex(v, "init_prologue"), ReadOnlySpan<byte>.Empty, Hex(v, "init_remote_static"),
            Convert.FromHexString(v.GetProperty("init_psks")[0].GetString()!), new FixedEphemeral(Hex(v, "init_ephemeral")));
        using var responder = new HandshakeState(HandshakePattern.NKpsk2, protocolName, initiator: false,
            Hex(v, "resp_prologue"), Hex(v, "resp_static"), ReadOnlySpan<byte>.Empty,
            Convert.FromHexString(v.GetProperty("resp_psks")[0].GetString()!), new FixedEphemeral(Hex(v, "resp_ephemeral")));

        JsonElement[] messages = v.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(6, messages.Length);
        var buffer = new byte[256];
        var payload = new byte[256];
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

        Assert.True(initiator.IsComplete && responder.IsComplete);
        Assert.Equal(Convert.ToHexString(Hex(v, "handshake_hash")), Convert.ToHexString(initiator.HandshakeHash));
        Assert.Equal(Convert.ToHexString(Hex(v, "handshake_hash")), Convert.ToHexString(responder.HandshakeHash));

        var k1 = new byte[32];
        var k2 = new byte[32];
        initiator.Split(k1, k2);
        using var initiatorToResponder = new CipherState();
        initiatorToResponder.InitializeKey(k1);
        using var responderToInitiator = new CipherState();
        responderToInitiator.InitializeKey(k2);
        for (int i = 2; i < 6; i++)
        {
            CipherState sender = i % 2 == 0 ? initiatorToResponder : responderToInitiator;
            int written = sender.EncryptWithAd(ReadOnlySpan<byte>.Empty, Hex(messages[i], "payload"), buffer);
            Assert.Equal(Convert.ToHexString(Hex(messages[i], "ciphertext")), Convert.ToHexString(buffer, 0, written));
        }
    }
}
