namespace MeshAgent.Engine.State;

/// <summary>
/// The daemon's state directory or one of its files cannot be used. The message names the path, what
/// is wrong with it and what the operator should do next; the daemon prints it and exits.
/// </summary>
public sealed class StateException(string message, Exception? inner = null) : Exception(message, inner);
