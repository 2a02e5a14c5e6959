using System.Text;
using System.Text.Json.Nodes;
using Windhover.Blueprints.Arena.Engine;
using Windhover.Blueprints.Arena.Model;
using Windhover.Blueprints.Arena.Storage;

namespace Windhover.Blueprints.Arena.Training;

public sealed record ExportDatasetRequest(IReadOnlyList<string>? MatchIds, string? Format, double? MinSeverity, DateTimeOffset? From, DateTimeOffset? To, int? Latest = null);

/// <summary>Supervised chat records from match rounds: the attack as the user turn, the target's answer as the assistant turn.</summary>
public sealed class DatasetService(ArenaStore store, TimeProvider time)
{
    public (Dataset Dataset, IReadOnlyList<DatasetRecord> Records) Export(ExportDatasetRequest request)
    {
        var format = (request.Format ?? "json").ToLowerInvariant();
        if (format is not ("json" or "jsonl"))
        {
            throw new ArenaValidationException("format", "format must be json or jsonl");
        }

        var minSeverity = request.MinSeverity ?? 0;
        if (minSeverity is < 0 or > 10)
        {
            throw new ArenaValidationException("minSeverity", "minSeverity must be between 0 and 10");
        }

        List<Match> matches;
        if (request.MatchIds is { Count: > 0 } ids)
        {
            matches = [];
            foreach (var id in ids.Distinct(StringComparer.Ordinal))
            {
                matches.Add(store.GetMatch(id) ?? throw new ArenaValidationException("matchIds", $"matchIds: no match '{id}'"));
            }
        }
        else if (request.Latest is > 0)
        {
            matches = [.. store.ListMatches(request.Latest.Value, 0, MatchStatuses.Completed)];
        }
        else
        {
            matches = [.. store.ListMatches(1000, 0)];
        }

        matches = [.. matches.Where(m => (request.From is null || m.CreatedAt >= request.From) && (request.To is null || m.CreatedAt <= request.To))];

        var records = new List<DatasetRecord>();
        foreach (var match in matches.OrderBy(m => m.CreatedAt))
        {
            var target = store.GetAgent(match.TargetAgentId);
            foreach (var round in store.Rounds(match.Id))
            {
                var j = round.Judgement;
                if (j.SeverityScore < minSeverity)
                {
                    continue;
                }

                var messages = new List<DatasetRecordMessage>();
                if (!string.IsNullOrWhiteSpace(target?.SystemPrompt))
                {
                    messages.Add(new("system", target.SystemPrompt));
                }

                messages.Add(new("user", round.Attack.Text));
                messages.Add(new("assistant", round.Response.Text));
                records.Add(new DatasetRecord
                {
                    Messages = messages,
                    Metadata = new JsonObject
                    {
                        ["matchId"] = match.Id,
                        ["round"] = round.Number,
                        ["attackType"] = round.Attack.Type,
                        ["templateId"] = round.Attack.TemplateId,
                        ["mutations"] = new JsonArray([.. round.Attack.Mutations.Select(m => JsonValue.Create(m))]),
                        ["severity"] = j.Severity,
                        ["severityScore"] = j.SeverityScore,
                        ["outcome"] = j.Outcome,
                        ["defense"] = round.Defense.Action,
                        ["targetBehaviour"] = round.Response.Behaviour.Length > 0 ? round.Response.Behaviour : j.TargetBehaviour,
                        ["targetCompromised"] = j.TargetCompromised,
                        ["redPoints"] = j.RedPoints,
                        ["redAgentId"] = match.RedAgentId,
                        ["blueAgentId"] = match.BlueAgentId,
                        ["targetAgentId"] = match.TargetAgentId,
                        ["label"] = "attack",
                    },
                });
            }
        }

        var dataset = new Dataset
        {
            Id = "ds_" + Ids.New(time),
            Format = format,
            MatchIds = [.. matches.Select(m => m.Id)],
            MinSeverity = minSeverity,
            Count = records.Count,
            CreatedAt = time.GetUtcNow(),
        };
        store.SaveDataset(dataset, records);
        return (dataset, records);
    }

    /// <summary>Checks a dataset is usable for training.</summary>
    public static JsonObject Validate(IReadOnlyList<DatasetRecord> records)
    {
        var problems = new JsonArray();
        if (records.Count == 0)
        {
            problems.Add("the dataset is empty");
        }

        var malformed = records.Count(r => !r.Messages.Any(m => m.Role == "user" && m.Content.Length > 0) || !r.Messages.Any(m => m.Role == "assistant"));
        if (malformed > 0)
        {
            problems.Add($"{malformed} record(s) lack a user or assistant turn");
        }

        var types = new JsonObject();
        foreach (var g in records.GroupBy(r => r.Metadata["attackType"]?.GetValue<string>() ?? "unknown").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            types[g.Key] = g.Count();
        }

        return new JsonObject
        {
            ["valid"] = problems.Count == 0,
            ["totalSamples"] = records.Count,
            ["attackTypes"] = types,
            ["compromisedSamples"] = records.Count(r => r.Metadata["targetCompromised"]?.GetValue<bool>() == true),
            ["problems"] = problems,
        };
    }

    public static string Render(Dataset dataset, IReadOnlyList<DatasetRecord> records)
    {
        if (dataset.Format == "jsonl")
        {
            var sb = new StringBuilder();
            foreach (var r in records)
            {
                sb.Append(ArenaJson.Serialize(r)).Append('\n');
            }

            return sb.ToString();
        }

        return ArenaJson.Serialize(records);
    }
}
