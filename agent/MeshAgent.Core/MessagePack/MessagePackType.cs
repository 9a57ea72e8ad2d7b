namespace MeshAgent.Core.MessagePack;

/// <summary>The MessagePack type system (spec.md "Type system"), as <see cref="MessagePackReader.TryPeekType"/> reports it.</summary>
public enum MessagePackType
{
    Nil,
    Boolean,
    Integer,
    Float,
    String,
    Binary,
    Array,
    Map,
    Extension,
}
