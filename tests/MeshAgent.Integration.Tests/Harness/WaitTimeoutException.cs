namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// <see cref="ProcessRunner.WaitUntilAsync(Func{Task{bool}}, TimeSpan, string, IEnumerable{ProcessHandle}?, CancellationToken)"/>
/// gave up: the message says what was awaited and carries the recent output of the processes involved.
/// </summary>
public sealed class WaitTimeoutException(string message) : TimeoutException(message);
