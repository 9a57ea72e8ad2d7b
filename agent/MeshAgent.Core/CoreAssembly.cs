namespace MeshAgent.Core; internal static class CoreAssembly { }
