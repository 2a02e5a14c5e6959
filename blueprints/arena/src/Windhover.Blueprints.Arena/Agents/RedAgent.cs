using Windhover.Blueprints.Arena.Model;

namespace Windhover.Blueprints.Arena.Agents;

public interface IRedPlayer
{
    Task<Attack> NextAttackAsync(int round, CancellationToken cancellationToken);

    /// <summary>Feedback after the judge scored the round.</summary>
    void Observe(Attack attack, Judgement judgement);
}

/// <summary>
/// The built-in red team. Strategy <c>bandit</c> (default): UCB1 over the attack templates with the round's red points / 10 as
/// reward, mutation operators applied with probability <c>mutationRate</c>, and a pool of attacks that worked which it mutates
/// further. Strategy <c>fixed</c>: walks the templates in order without mutations (a weak, predictable attacker).
/// </summary>
public sealed class BuiltInRedAgent : IRedPlayer
{
    private readonly Random _random;
    private readonly List<AttackTemplate> _arms;
    private readonly double[] _rewards;
    private readonly int[] _pulls;
    private readonly List<Attack> _elite = [];
    private readonly bool _bandit;
    private readonly double _mutationRate;
    private readonly string[] _mutations;
    private int _fixedIndex;
    private int _totalPulls;

    public BuiltInRedAgent(Agent agent, int seed)
    {
        _random = new Random(seed);
        var allowed = agent.Permissions.Where(p => p.StartsWith("attack:", StringComparison.Ordinal)).Select(p => p["attack:".Length..]).ToHashSet();
        var types = allowed.Count == 0 || allowed.Contains("*") ? AttackTypes.All.ToHashSet() : allowed;
        var metaTypes = agent.Metadata["attackTypes"]?.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        if (metaTypes is { Count: > 0 })
        {
            types.IntersectWith(metaTypes);
        }

        _arms = [.. AttackLibrary.Templates.Where(t => types.Contains(t.Type))];
        if (_arms.Count == 0)
        {
            _arms = [.. AttackLibrary.Templates];
        }

        _rewards = new double[_arms.Count];
        _pulls = new int[_arms.Count];
        _bandit = (agent.Metadata["strategy"]?.GetValue<string>() ?? "bandit") != "fixed";
        _mutationRate = agent.Metadata["mutationRate"]?.GetValue<double>() ?? (_bandit ? 0.6 : 0.0);
        _mutations = agent.Metadata["mutations"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? AttackLibrary.MutationNames;

        // Priors learned by fine-tuning (templateId -> {pulls, reward}) start the bandit where training left it.
        if (agent.Metadata["templatePriors"] is System.Text.Json.Nodes.JsonObject priors)
        {
            for (var i = 0; i < _arms.Count; i++)
            {
                if (priors[_arms[i].Id] is System.Text.Json.Nodes.JsonObject prior)
                {
                    _pulls[i] = prior["pulls"]?.GetValue<int>() ?? 0;
                    _rewards[i] = prior["reward"]?.GetValue<double>() ?? 0;
                    _totalPulls += _pulls[i];
                }
            }
        }
    }

    public Task<Attack> NextAttackAsync(int round, CancellationToken cancellationToken) => Task.FromResult(Next());

    internal Attack Next()
    {
        // Mutate what worked: revisit a successful attack with a fresh mutation.
        if (_bandit && _elite.Count > 0 && _random.NextDouble() < 0.3)
        {
            var parent = _elite[_random.Next(_elite.Count)];
            return MutateOnce(parent with { Mutations = parent.Mutations });
        }

        var arm = SelectArm();
        var attack = AttackLibrary.Instantiate(_arms[arm], _random);
        if (_mutations.Length > 0 && _random.NextDouble() < _mutationRate)
        {
            attack = MutateOnce(attack);
            if (_random.NextDouble() < 0.3)
            {
                attack = MutateOnce(attack);
            }
        }

        return attack;
    }

    private Attack MutateOnce(Attack attack)
    {
        var candidates = _mutations.Where(m => !attack.Mutations.Contains(m)).ToArray();
        return candidates.Length == 0 ? attack : AttackLibrary.Mutate(attack, candidates[_random.Next(candidates.Length)], _random);
    }

    private int SelectArm()
    {
        if (!_bandit)
        {
            return _fixedIndex++ % _arms.Count;
        }

        for (var i = 0; i < _arms.Count; i++)
        {
            if (_pulls[i] == 0)
            {
                // Unexplored arms first, in a seeded random order.
                var unexplored = Enumerable.Range(0, _arms.Count).Where(a => _pulls[a] == 0).ToArray();
                return unexplored[_random.Next(unexplored.Length)];
            }
        }

        var best = 0;
        var bestValue = double.MinValue;
        for (var i = 0; i < _arms.Count; i++)
        {
            var value = _rewards[i] / _pulls[i] + Math.Sqrt(2 * Math.Log(Math.Max(1, _totalPulls)) / _pulls[i]);
            if (value > bestValue)
            {
                bestValue = value;
                best = i;
            }
        }

        return best;
    }

    public void Observe(Attack attack, Judgement judgement)
    {
        var arm = _arms.FindIndex(a => a.Id == attack.TemplateId);
        var reward = judgement.RedPoints / 10.0;
        if (arm >= 0)
        {
            _pulls[arm]++;
            _rewards[arm] += reward;
            _totalPulls++;
        }

        if (reward >= 0.5 && _elite.Count < 32)
        {
            _elite.Add(attack);
        }
    }
}
