using System.Collections.Immutable;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Triggers;

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

    /// <summary>The columns of a trigger state, in the order <see cref="ReadTriggerState"/> reads them.</summary>
    public const string TriggerStateColumns = "namespace, flow_id, trigger_id, last_fire, next_fire, last_execution_id, disabled, data, updated";

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

    public static TriggerState ReadTriggerState(DbDataReader reader) => new()
    {
        Namespace = reader.GetString(0),
        FlowId = reader.GetString(1),
        TriggerId = reader.GetString(2),
        LastFire = reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
        NextFire = reader.IsDBNull(4) ? null : new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
        LastExecutionId = reader.IsDBNull(5) ? null : reader.GetString(5),
        Disabled = reader.IsDBNull(6) ? null : Convert.ToBoolean(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture), // boolean, or SQLite's 0/1
        Data = reader.IsDBNull(7) ? null : reader.GetString(7),
        Updated = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
    };

    /// <summary>
    /// The <c>WHERE</c> condition of an execution's log lines (without the keyword), its parameters added to
    /// <paramref name="command"/> named with <paramref name="prefix"/> (<c>$</c> for SQLite, <c>@</c> for PostgreSQL).
    /// </summary>
    public static string LogFilter(DbCommand command, char prefix, string executionId, ExecutorLogLevel? minLevel, string? taskRunId, string? taskId)
    {
        var where = new StringBuilder();
        Condition(where, command, prefix, "execution_id =", "e", executionId);
        Condition(where, command, prefix, "level >=", "l", minLevel is { } level ? (int)level : null);
        Condition(where, command, prefix, "task_run_id =", "tr", taskRunId);
        Condition(where, command, prefix, "task_id =", "t", taskId);
        return where.ToString();
    }

    /// <summary>
    /// Appends to <paramref name="where"/> the execution-search conditions every store writes alike (flow, start and end
    /// dates, parent); the namespace prefix, states and labels are each store's own, tuned to its planner.
    /// </summary>
    public static void AppendExecutionFilters(StringBuilder where, DbCommand command, char prefix, ExecutionQuery query)
    {
        Condition(where, command, prefix, "flow_id =", "flow", query.FlowId);
        Condition(where, command, prefix, "start_date >=", "start", query.StartDate?.UtcTicks);
        Condition(where, command, prefix, "end_date <=", "end", query.EndDate?.UtcTicks);
        Condition(where, command, prefix, "parent_id =", "parent", query.ParentId);
    }

    /// <summary>Appends <c>AND {test} {prefix}{name}</c> and its parameter when <paramref name="value"/> is not null.</summary>
    private static void Condition(StringBuilder where, DbCommand command, char prefix, string test, string name, object? value)
    {
        if (value is null)
        {
            return;
        }

        where.Append(where.Length == 0 ? "" : " AND ").Append(test).Append(' ').Append(prefix).Append(name);
        var parameter = command.CreateParameter();
        parameter.ParameterName = prefix + name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

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
