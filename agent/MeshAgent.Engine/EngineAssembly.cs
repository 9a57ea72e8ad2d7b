namespace MeshAgent.Engine; internal static class EngineAssembly { }
