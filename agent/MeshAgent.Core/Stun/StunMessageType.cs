namespace MeshAgent.Core.Stun;

/// <summary>The two class bits C1 C0 of a STUN message type (RFC 8489 §5).</summary>
public enum StunClass : byte
{
    Request = 0b00,
    Indication = 0b01,
    SuccessResponse = 0b10,
    ErrorResponse = 0b11,
}

/// <summary>STUN methods (12 bits). Only Binding is defined by RFC 8489 (§18.2); TURN adds others.</summary>
public enum StunMethod : ushort
{
    Binding = 0x001,
}

/// <summary>
/// The 14-bit message type: a 12-bit method and a 2-bit class, interleaved (RFC 8489 §5, figure 3):
/// <code>
///  bit 13 ........................................... bit 0
///  M11 M10 M9 M8 M7 | C1 | M6 M5 M4 | C0 | M3 M2 M1 M0
/// </code>
/// so Binding request = 0x0001, indication = 0x0011, success = 0x0101, error = 0x0111.
/// </summary>
public readonly record struct StunMessageType(StunMethod Method, StunClass Class)
{
    public static readonly StunMessageType BindingRequest = new(StunMethod.Binding, StunClass.Request);
    public static readonly StunMessageType BindingIndication = new(StunMethod.Binding, StunClass.Indication);
    public static readonly StunMessageType BindingSuccess = new(StunMethod.Binding, StunClass.SuccessResponse);
    public static readonly StunMessageType BindingError = new(StunMethod.Binding, StunClass.ErrorResponse);

    /// <summary>The 16-bit field as on the wire (top two bits zero).</summary>
    public ushort Value
    {
        get
        {
            int m = (ushort)Method;
            int c = (int)Class;
            return (ushort)((m & 0x000F) | ((c & 0b01) << 4) | ((m & 0x0070) << 1) | ((c & 0b10) << 7) | ((m & 0x0F80) << 2));
        }
    }

    /// <summary>Splits a wire value; bits 14–15 are ignored (callers check them first).</summary>
    public static StunMessageType FromValue(ushort value)
    {
        int method = (value & 0x000F) | ((value & 0x00E0) >> 1) | ((value & 0x3E00) >> 2);
        int cls = ((value & 0x0010) >> 4) | ((value & 0x0100) >> 7);
        return new StunMessageType((StunMethod)method, (StunClass)cls);
    }

    public override string ToString() => $"{Method} {Class} (0x{Value:x4})";
}
