using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.Paths;

/// <summary>
/// Birthday-paradox probing between a hard (endpoint-dependent) and an easy (endpoint-independent)
/// NAT, after Tailscale's "How NAT traversal works" (learned, not copied):
/// <list type="number">
/// <item>Hard side, after a discovery round that found no direct path and HardNatStartDelay more:
/// open HardNatPorts sockets and send one ping from each to the easy side's public (STUN) mapping.
/// Each creates a mapping at a random public port that accepts exactly the easy side's mapping as
/// a source; the easy side's NAT drops these pings (it never sent to those ports). Then send a
/// call-me-maybe with the number of ports opened.</item>
/// <item>Easy side, on that call-me-maybe: send HardNatProbes pings, HardNatProbesPerSecond, to
/// distinct random ports of the hard side's public address from the main socket (whose mapping
/// is the one those ports accept). Each also opens the easy NAT for that port.</item>
/// <item>A probe that lands on one of the open ports reaches the hard side on that probe socket;
/// it answers (pong and a ping back from the same socket, both pass the easy NAT now). The first
/// pong on either side makes the path; the hard side closes every probe socket but the winner.</item>
/// </list>
/// Success probability: <see cref="BirthdayMath"/>. An attempt that finds nothing within
/// HardNatAttemptDuration closes its sockets; the next waits HardNatRetryInterval.
/// </summary>
public sealed partial class PathManager
{
    private readonly List<UdpEndpoint> _hardNatTargets = new();
    private HardNatPhase _hardNat;
    private long _hardNatAt;
    private long _hardNatRefreshAt;
    private long _hardNatNotBefore = CandidateState.Never;
    private int _probeSockets;

    private bool _sprayActive;
    private long _sprayStartedAt;
    private int _spraySent;
    private IPAddress? _sprayAddress;
    private BirthdayPortSampler? _sampler;

    private enum HardNatPhase
    {
        Idle,
        Scheduled,
        Open,
    }

    /// <summary>Probe sockets open now (hard side of an attempt in progress); 0 otherwise.</summary>
    public int OpenProbeSocketCount => _hardNat == HardNatPhase.Open ? _probeSockets : 0;

    /// <summary>True while this side sprays probes at a hard peer.</summary>
    public bool IsSpraying => _sprayActive;

    private void ScheduleHardNat(long now)
    {
        if (HardNatRole != HardNatRole.OpenPorts || _config.HardNatPorts == 0 || _hardNat != HardNatPhase.Idle || now < _hardNatNotBefore)
        {
            return;
        }

        _hardNat = HardNatPhase.Scheduled;
        _hardNatAt = now + _config.HardNatStartDelay.Ticks;
    }

    private void RunHardNat(long now)
    {
        if (_hardNat == HardNatPhase.Scheduled && now >= _hardNatAt)
        {
            if (_best is not null || HardNatRole != HardNatRole.OpenPorts)
            {
                _hardNat = HardNatPhase.Idle;
            }
            else
            {
                OpenProbePorts(now);
            }
        }
        else if (_hardNat == HardNatPhase.Open)
        {
            if (now >= _hardNatAt)
            {
                StopHardNat(keepSocket: 0, succeeded: false);
                _hardNatNotBefore = now + _config.HardNatRetryInterval.Ticks;
            }
            else if (now >= _hardNatRefreshAt)
            {
                PingFromProbeSockets(now);
                _hardNatRefreshAt = now + _config.HardNatRefreshInterval.Ticks;
            }
        }

        if (_sprayActive)
        {
            Spray(now);
        }
    }

    private void OpenProbePorts(long now)
    {
        _hardNat = HardNatPhase.Idle;
        _hardNatTargets.Clear();
        foreach (CandidateState state in _candidates.Values)
        {
            if (state.Kind == PathCandidateKind.Reflexive && state.Address.Socket == 0 && !state.Address.Endpoint.IsIPv6)
            {
                _hardNatTargets.Add(state.Address.Endpoint);
            }
        }

        if (_hardNatTargets.Count == 0)
        {
            _hardNatNotBefore = now + _config.HardNatRetryInterval.Ticks; // the easy side published no STUN mapping: nothing to aim at
            return;
        }

        int opened = _actions.OpenProbeSockets(_config.HardNatPorts);
        Counters.HardNatAttempts++;
        if (opened <= 0)
        {
            _hardNatNotBefore = now + _config.HardNatRetryInterval.Ticks;
            return;
        }

        Counters.HardNatSocketsOpened += opened;
        _probeSockets = opened;
        _hardNat = HardNatPhase.Open;
        _hardNatAt = now + _config.HardNatAttemptDuration.Ticks;
        _hardNatRefreshAt = now + _config.HardNatRefreshInterval.Ticks;
        PingFromProbeSockets(now);
        SendCallMeMaybe(opened); // "my ports are open: spray now"
    }

    private void PingFromProbeSockets(long now)
    {
        for (int socket = 1; socket <= _probeSockets; socket++)
        {
            foreach (UdpEndpoint target in _hardNatTargets)
            {
                SendPing(PathAddress.Direct(target, socket), PingPurpose.HardNat, now);
            }
        }
    }

    /// <summary>The hard peer opened <paramref name="ports"/> probe sockets towards us: spray, if we are the easy side and have no direct path.</summary>
    private void StartSpray(long now, int ports)
    {
        if (_localNat != NatMapping.EndpointIndependent || _config.HardNatProbes == 0 || _best is not null || _sprayActive || ports <= 0)
        {
            return;
        }

        IPAddress? address = null;
        foreach (CandidateState state in _candidates.Values)
        {
            if (state.Kind == PathCandidateKind.Reflexive && !state.Address.Endpoint.IsIPv6)
            {
                address = state.Address.Endpoint.ToIPAddress();
                break;
            }
        }

        if (address is null || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return; // the hard side's public address is unknown
        }

        Counters.HardNatAttempts++;
        _sprayActive = true;
        _sprayStartedAt = now;
        _spraySent = 0;
        _sprayAddress = address;
        _sampler = new BirthdayPortSampler(_random, _config.HardNatLowestPort);
    }

    /// <summary>Sends the probes due by now: probe i goes out at start + i / rate.</summary>
    private void Spray(long now)
    {
        if (_best is not null)
        {
            _sprayActive = false;
            return;
        }

        long due = Math.Min(_config.HardNatProbes, 1 + (now - _sprayStartedAt) * _config.HardNatProbesPerSecond / TimeSpan.TicksPerSecond);
        while (_spraySent < due)
        {
            ushort port = _sampler!.Next();
            SendPing(PathAddress.Direct(new UdpEndpoint(_sprayAddress!, port)), PingPurpose.HardNat, now);
            _spraySent++;
            Counters.HardNatProbesSent++;
        }

        if (_spraySent >= _config.HardNatProbes)
        {
            _sprayActive = false; // late pongs still count until PingTimeout
        }
    }

    private void StopHardNat(int keepSocket, bool succeeded)
    {
        if (succeeded && (_hardNat == HardNatPhase.Open || _sprayActive))
        {
            Counters.HardNatSuccesses++;
        }

        if (_hardNat == HardNatPhase.Open)
        {
            _actions.CloseProbeSockets(keepSocket);
            RemoveProbeSocketCandidates(except: keepSocket);
        }

        _hardNat = HardNatPhase.Idle;
        _probeSockets = 0;
        _sprayActive = false;
    }

    private long NextHardNatWake()
    {
        long next = long.MaxValue;
        if (_hardNat == HardNatPhase.Scheduled)
        {
            next = _hardNatAt;
        }
        else if (_hardNat == HardNatPhase.Open)
        {
            next = Math.Min(_hardNatAt, _hardNatRefreshAt);
        }

        if (_sprayActive)
        {
            long rate = _config.HardNatProbesPerSecond;
            next = Math.Min(next, _sprayStartedAt + ((_spraySent * TimeSpan.TicksPerSecond) + rate - 1) / rate);
        }

        return next;
    }
}
