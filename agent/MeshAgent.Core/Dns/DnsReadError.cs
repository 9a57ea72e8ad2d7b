namespace MeshAgent.Core.Dns;

/// <summary>Why a DNS message could not be read. Every value is a counted drop, never an exception.</summary>
public enum DnsReadError
{
    None = 0,

    /// <summary>The message ends inside the header, a name, a question, a record or its RDATA.</summary>
    Truncated,

    /// <summary>A label length byte has the reserved top bits 01 or 10 (RFC 6891 §5 deprecated extended labels).</summary>
    BadLabelType,

    /// <summary>A compression pointer does not point to an earlier position in the message (RFC 1035 §4.1.4 "prior occurrence").</summary>
    BadPointer,

    /// <summary>A name follows more compression pointers than a 255-byte name can need (a pointer loop).</summary>
    PointerLoop,

    /// <summary>A name's uncompressed wire form exceeds 255 bytes (RFC 1035 §2.3.4).</summary>
    NameTooLong,

    /// <summary>RDATA is malformed for its type: wrong address length, a field that overruns RDLENGTH, bytes left over.</summary>
    BadRecordData,
}
