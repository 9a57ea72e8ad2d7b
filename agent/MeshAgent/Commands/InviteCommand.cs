using System.CommandLine;
using System.Globalization;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary>
/// <c>meshagent invite</c>: issue a one-time join token (admins only). The token is the only thing on stdout,
/// on one line, so <c>TOKEN=$(meshagent invite)</c> captures it; the expiry, the hint and the QR code go to stderr.
/// </summary>
public static class InviteCommand
{
    /// <summary>The longest a token may stay valid (the daemon enforces it too; <see cref="InviteRequest.Expires"/>).</summary>
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(30);

    public static Command Create()
    {
        var name = new Option<string?>("--name")
        {
            Description = "The name the new node gets (it may ask for another one unless taken).",
            HelpName = "NODE",
        };
        var expires = new Option<string?>("--expires")
        {
            Description = "How long the token stays valid: a number and a unit s, m, h or d, e.g. 90s, 30m, 1h, 2d, 1h30m (default 1h, at most 30d).",
            HelpName = "DURATION",
        };
        var qr = new Option<bool>("--qr")
        {
            Description = "Also draw the token as a QR code on stderr (to scan it with a phone).",
        };
        Option<string> socket = DaemonCli.CreateSocketOption();

        var command = new Command("invite", "Issue a one-time join token for a new machine (admins only). Prints the token alone on stdout.")
        {
            name, expires, qr, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(name), call.Parse.GetValue(expires), call.Parse.GetValue(qr)));
        return command;
    }

    /// <summary>
    /// Parses a duration such as 90s, 30m, 1h, 2d or 1h30m: one or more groups of digits and a unit (s, m, h, d),
    /// each unit at most once and from the largest to the smallest. Null problem on success.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, out string? problem)
    {
        duration = TimeSpan.Zero;
        problem = null;
        string example = "like 90s, 30m, 1h, 2d or 1h30m";
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"an empty duration; give a number and a unit, {example}";
            return false;
        }

        ReadOnlySpan<char> rest = text.AsSpan().Trim();
        int lastRank = int.MaxValue;
        while (!rest.IsEmpty)
        {
            int digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 0 || digits == rest.Length)
            {
                problem = digits == rest.Length
                    ? $"'{text}' has a number without a unit; add s, m, h or d, {example}"
                    : $"'{text}' is not a duration; expected a number and a unit, {example}";
                return false;
            }

            (int rank, TimeSpan unit) = char.ToLowerInvariant(rest[digits]) switch
            {
                'd' => (3, TimeSpan.FromDays(1)),
                'h' => (2, TimeSpan.FromHours(1)),
                'm' => (1, TimeSpan.FromMinutes(1)),
                's' => (0, TimeSpan.FromSeconds(1)),
                _ => (-1, TimeSpan.Zero),
            };
            if (rank < 0)
            {
                problem = $"'{text}' has the unit '{rest[digits]}'; use s, m, h or d, {example}";
                return false;
            }

            if (rank >= lastRank)
            {
                problem = $"'{text}' repeats a unit or puts a smaller one first; write it like 1h30m";
                return false;
            }

            // More than 9 digits cannot be a sensible expiry and would overflow below.
            if (digits > 9)
            {
                problem = $"'{text}' is far longer than the {FormatDuration(MaxExpiry)} a token may last";
                return false;
            }

            duration += unit * long.Parse(rest[..digits], CultureInfo.InvariantCulture);
            lastRank = rank;
            rest = rest[(digits + 1)..];
        }

        if (duration <= TimeSpan.Zero)
        {
            problem = $"'{text}' is no time at all; a token must stay valid for at least a second";
            return false;
        }

        if (duration > MaxExpiry)
        {
            problem = $"'{text}' is longer than the {FormatDuration(MaxExpiry)} a token may last";
            return false;
        }

        return true;
    }

    /// <summary>A short human form: "90s" → "1m30s", "1.00:00:00" → "1d".</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return "0s";
        }

        var text = new System.Text.StringBuilder();
        if (duration.Days > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Days}d");
        }

        if (duration.Hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Hours}h");
        }

        if (duration.Minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Minutes}m");
        }

        if (duration.Seconds > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{duration.Seconds}s");
        }

        return text.ToString();
    }

    private static async Task<int> RunAsync(DaemonCall call, string? name, string? expires, bool qr)
    {
        if (name is not null && DaemonCli.DescribeNodeName(name) is { } nameProblem)
        {
            return call.Invalid($"--name: {nameProblem}");
        }

        TimeSpan? expiry = null;
        if (expires is not null)
        {
            if (!TryParseDuration(expires, out TimeSpan parsed, out string? problem))
            {
                return call.Invalid($"--expires: {problem}");
            }

            expiry = parsed;
        }

        InviteResult result = await call.Client.InviteAsync(new InviteRequest { Name = name, Expires = expiry }, call.CancellationToken);

        call.Output.WriteLine(result.Token);
        call.Output.Flush();

        TextWriter error = call.Error;
        TimeSpan left = result.ExpiresAt - DateTimeOffset.UtcNow;
        error.WriteLine(
            $"{(result.Name is null ? "token" : $"token for {result.Name}")}: valid once, until {result.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC"
            + (left > TimeSpan.Zero ? $" (in {FormatDuration(Round(left))})" : string.Empty));
        error.WriteLine("on the new machine run: meshagent join TOKEN");
        if (qr)
        {
            error.Write(QrTerminal.Render(result.QrText));
        }

        return ExitCodes.Success;
    }

    // The token was made a moment ago: "in 1h", not "in 59m59s".
    private static TimeSpan Round(TimeSpan value) => value >= TimeSpan.FromMinutes(2)
        ? TimeSpan.FromMinutes(Math.Round(value.TotalMinutes))
        : TimeSpan.FromSeconds(Math.Round(value.TotalSeconds));
}
