using System.Collections.Immutable;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;

namespace Windhover.Engine.Stores;

/// <summary>
/// The row shapes every relational store shares (SQLite, PostgreSQL): the column lists, how a row of them reads back,
/// and the labels column's JSON. Dates are UTC ticks.
/// </summary>
public static class StoreRows
{
    /// <summary>The columns of an execution summary, in the order <see cref="ReadSummary"/> reads them.</summary>
    public const string SummaryColumns = "id, namespace, flow_id, flow_revision, state, start_date, end_date, labels, parent_id, original_id, trigger_id, trigger_type";

    /// <summary>The columns of a log line, in the order <see cref="ReadLog"/> reads them.</summary>
    public const string LogColumns = "execution_id, namespace, flow_id, task_run_id, task_id, attempt, trigger_id, timestamp, level, message, thread";

    public static ExecutionSummary ReadSummary(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Namespace = reader.GetString(1),
        FlowId = reader.GetString(2),
        FlowRevision = reader.GetInt32(3),
        State = StateExtensions.ParseKestraName(reader.GetString(4)),
        StartDate = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
        EndDate = reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
        Labels = ParseLabels(reader.IsDBNull(7) ? null : reader.GetString(7)),
        ParentId = reader.IsDBNull(8) ? null : reader.GetString(8),
        OriginalId = reader.IsDBNull(9) ? null : reader.GetString(9),
        TriggerId = reader.IsDBNull(10) ? null : reader.GetString(10),
        TriggerType = reader.IsDBNull(11) ? null : reader.GetString(11),
    };

    public static LogEntry ReadLog(DbDataReader reader) => new()
    {
        ExecutionId = reader.GetString(0),
        Namespace = reader.GetString(1),
        FlowId = reader.GetString(2),
        TaskRunId = reader.IsDBNull(3) ? null : reader.GetString(3),
        TaskId = reader.IsDBNull(4) ? null : reader.GetString(4),
        AttemptNumber = reader.IsDBNull(5) ? null : reader.GetInt32(5),
        TriggerId = reader.IsDBNull(6) ? null : reader.GetString(6),
        Timestamp = new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero),
        Level = (ExecutorLogLevel)reader.GetInt32(8),
        Message = reader.GetString(9),
        Thread = reader.IsDBNull(10) ? null : reader.GetString(10),
    };

    /// <summary>The labels column: <c>[["key","value"], ...]</c> in label order.</summary>
    public static string LabelsJson(ImmutableArray<ExecutionLabel> labels)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var label in labels.IsDefault ? [] : labels)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(label.Key);
                writer.WriteStringValue(label.Value);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static ImmutableArray<ExecutionLabel> ParseLabels(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => new ExecutionLabel(e[0].GetString()!, e[1].GetString()!))];
    }
}
