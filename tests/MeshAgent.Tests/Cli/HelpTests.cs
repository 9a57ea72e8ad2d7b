namespace MeshAgent.Tests.Cli;

/// <summary>Every command answers --help with its description and its options, without doing anything.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("Create a new network", "--network", "init")]
    [InlineData("Issue a one-time join token", "--expires", "invite")]
    [InlineData("Join a network with a one-time token", "TOKEN", "join")]
    [InlineData("Leave the network", "--socket", "leave")]
    [InlineData("Revoke a member", "--reason", "revoke")]
    [InlineData("Manage the network's admins", "grant", "admin")]
    [InlineData("Make a member an admin", "NAME", "admin", "grant")]
    [InlineData("Show the network, this node", "--json", "status")]
    [InlineData("List the other members", "--json", "peers")]
    [InlineData("Run the agent (daemon)", "--listen-port", "run")]
    public async Task Help_describes_the_command_and_its_options(string description, string mentions, params string[] command)
    {
        CliRunner.Result run = await CliRunner.RunAsync([.. command, "--help"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(description, run.Output, StringComparison.Ordinal);
        Assert.Contains(mentions, run.Output, StringComparison.Ordinal);
        if (command[0] != "admin" || command.Length > 1)
        {
            Assert.Contains("--socket", run.Output, StringComparison.Ordinal);
        }
    }
}
