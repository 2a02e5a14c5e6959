namespace Windhover.Blueprints.DevOpsCommander.Policy;

/// <summary>
/// Cost-sensitive logistic regression: features standardised with the training mean and deviation, each example weighted
/// by the regret of getting it wrong (unhealthy: 300, healthy: 100, from the seed's rewards) times its own weight, L2
/// penalty, full-batch gradient descent from zero weights for a fixed number of steps (deterministic). Rolling back when
/// the weighted model's probability of "unhealthy" exceeds 0.5 is the reward-optimal rule for those costs.
/// </summary>
public sealed class LogisticPolicy
{
    private LogisticPolicy(double[] mean, double[] scale, double[] weights, double bias)
    {
        Mean = mean;
        Scale = scale;
        Weights = weights;
        Bias = bias;
    }

    public double[] Mean { get; }
    public double[] Scale { get; }
    public double[] Weights { get; }
    public double Bias { get; }

    public double ProbabilityUnhealthy(double[] x)
    {
        var z = Bias;
        for (var j = 0; j < x.Length; j++)
        {
            z += Weights[j] * (x[j] - Mean[j]) / Scale[j];
        }

        return 1 / (1 + Math.Exp(-z));
    }

    public static LogisticPolicy Train(IReadOnlyList<double[]> xs, IReadOnlyList<bool> ys, IReadOnlyList<double> sampleWeights,
        int steps = 1500, double learningRate = 0.3, double l2 = 1e-3)
    {
        var n = xs.Count;
        var d = xs[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        for (var j = 0; j < d; j++)
        {
            mean[j] = xs.Average(x => x[j]);
            var variance = xs.Average(x => (x[j] - mean[j]) * (x[j] - mean[j]));
            scale[j] = variance > 1e-12 ? Math.Sqrt(variance) : 1;
        }

        var z = xs.Select(x => x.Select((v, j) => (v - mean[j]) / scale[j]).ToArray()).ToArray();
        var cost = new double[n];
        for (var i = 0; i < n; i++)
        {
            cost[i] = sampleWeights[i] * (ys[i] ? Rewards.PositiveRegret : Rewards.NegativeRegret);
        }

        var total = cost.Sum();
        for (var i = 0; i < n; i++)
        {
            cost[i] /= total;
        }

        var w = new double[d];
        var b = 0.0;
        var grad = new double[d];
        for (var step = 0; step < steps; step++)
        {
            Array.Clear(grad);
            var gb = 0.0;
            for (var i = 0; i < n; i++)
            {
                var s = b;
                for (var j = 0; j < d; j++)
                {
                    s += w[j] * z[i][j];
                }

                var p = 1 / (1 + Math.Exp(-s));
                var e = cost[i] * (p - (ys[i] ? 1 : 0));
                gb += e;
                for (var j = 0; j < d; j++)
                {
                    grad[j] += e * z[i][j];
                }
            }

            for (var j = 0; j < d; j++)
            {
                w[j] -= learningRate * (grad[j] + l2 * w[j]);
            }

            b -= learningRate * gb;
        }

        return new LogisticPolicy(mean, scale, w, b);
    }
}
