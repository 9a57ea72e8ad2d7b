using BenchmarkDotNet.Running;

// Runs the micro-benchmarks picked by the command line, e.g.
//   dotnet run -c Release --project bench/MeshAgent.Benchmarks -- --filter '*'
//   dotnet run -c Release --project bench/MeshAgent.Benchmarks -- --filter '*Aead*'
// Every class uses ShortRunConfig (3 warm-ups, 5 measured iterations) so the suite takes minutes.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
