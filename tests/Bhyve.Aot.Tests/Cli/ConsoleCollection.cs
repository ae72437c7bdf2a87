using Xunit;

namespace Bhyve.Aot.Tests.Cli;

/// <summary>Tests that swap Console.Out/Console.Error are process-wide: they run alone, never beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console redirection";
}
