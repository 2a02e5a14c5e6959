using Windhover.Flows.Validation;
using Windhover.Flows.Yaml;

namespace Windhover.Flows.Tests.Validation;

/// <summary>One test per kind of problem: inline YAML, asserting the exact line, column and message.</summary>
public sealed class ProblemPositionTests
{
    private static readonly FlowParser Parser = FlowParser.Default;

    private static FlowProblem Single(string yaml, FlowParser? parser = null)
    {
        var result = (parser ?? Parser).Parse(yaml, "flow.yaml");
        Assert.Null(result.Flow);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("flow.yaml", problem.Path);
        return problem;
    }

    private static void AssertProblem(FlowProblem problem, int line, int column, string message)
    {
        Assert.Equal(message, problem.Message);
        Assert.Equal((line, column), (problem.Position.Line, problem.Position.Column));
        Assert.Equal($"{line}:{column}: {message}", problem.ToString());
    }

    private const string Head = "id: my-flow\nnamespace: company.team\n";

    [Fact]
    public void Duplicate_map_key()
    {
        var p = Single(Head + """
            tasks:
              - id: s
                type: io.kestra.plugin.core.state.Set
                data:
                  variables.tf: a
                  variables.tf: b
            """);
        AssertProblem(p, 8, 7, "Duplicate field 'variables.tf'");
        Assert.Equal("tasks[0].data.variables.tf", p.PropertyPath);
    }

    [Fact]
    public void Yaml_syntax_error()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: [unclosed\n");
        Assert.StartsWith("YAML syntax error: ", p.Message);
        Assert.Equal(6, p.Position.Line);
    }

    [Fact]
    public void Unknown_task_type_with_suggestion()
    {
        var p = Single(Head + """
            tasks:
              - id: hello
                type: io.kestra.plugin.core.log.Lgo
                message: hi
            """);
        AssertProblem(p, 5, 11, "Invalid type: io.kestra.plugin.core.log.Lgo (did you mean io.kestra.plugin.core.log.Log?)");
        Assert.Equal("tasks[0].type", p.PropertyPath);
    }

    [Fact]
    public void Unknown_task_type_without_close_match()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.MissingOne\n");
        AssertProblem(p, 5, 11, "Invalid type: io.kestra.plugin.core.debug.MissingOne");
    }

    [Fact]
    public void Unknown_task_property()
    {
        var p = Single(Head + """
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                invalid: x
            """);
        AssertProblem(p, 6, 5, "Unrecognized field \"invalid\" (class io.kestra.plugin.core.debug.Return), not marked as ignorable (13 known properties: \"logLevel\", \"timeout\", \"retry\", \"allowWarning\", \"format\", \"type\", \"id\", \"description\", \"workerGroup\", \"runIf\", \"logToFile\", \"disabled\", \"allowFailure\"])");
    }

    [Fact]
    public void Missing_required_property()
    {
        var p = Single(Head + "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n");
        AssertProblem(p, 4, 5, "Missing required property 'message'");
        Assert.Equal("tasks[0].message", p.PropertyPath);
    }

    [Fact]
    public void Wrong_property_type()
    {
        var p = Single(Head + """
            tasks:
              - id: par
                type: io.kestra.plugin.core.flow.Parallel
                concurrent: lots
                tasks:
                  - id: a
                    type: io.kestra.plugin.core.debug.Return
            """);
        AssertProblem(p, 6, 17, "Invalid value for 'concurrent': expected an integer, got a string");
    }

    [Fact]
    public void Map_where_a_string_is_expected()
    {
        var p = Single(Head + "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n    format:\n      a: b\n");
        AssertProblem(p, 7, 7, "Invalid value for 'format': expected a string, got a map");
    }

    [Fact]
    public void Flow_without_tasks()
    {
        var p = Single(Head);
        AssertProblem(p, 1, 1, "must not be empty");
        Assert.Equal("tasks", p.PropertyPath);
    }

    [Fact]
    public void Flowable_with_empty_tasks()
    {
        var p = Single(Head + "tasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks: []\n");
        AssertProblem(p, 6, 12, "must not be empty");
    }

    [Fact]
    public void Invalid_flow_id()
    {
        var p = Single("id: -bad id\nnamespace: company\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 1, 5, "must match \"^[a-zA-Z0-9][a-zA-Z0-9._-]*\"");
    }

    [Fact]
    public void Invalid_namespace()
    {
        var p = Single("id: ok\nnamespace: Company.Team\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 2, 12, "must match \"^[a-z0-9][a-z0-9._-]*\"");
        Assert.Equal("namespace", p.PropertyPath);
    }

    [Fact]
    public void Missing_namespace()
    {
        var p = Single("id: ok\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 1, 1, "must not be null");
        Assert.Equal("namespace", p.PropertyPath);
    }

    [Fact]
    public void Invalid_task_id()
    {
        var p = Single(Head + "tasks:\n  - id: has space\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 4, 9, "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"");
    }

    [Fact]
    public void Duplicate_task_id_in_nested_tree()
    {
        var p = Single(Head + """
            tasks:
              - id: t1
                type: io.kestra.plugin.core.debug.Return
              - id: par
                type: io.kestra.plugin.core.flow.Parallel
                tasks:
                  - id: t1
                    type: io.kestra.plugin.core.debug.Return
            """);
        AssertProblem(p, 9, 13, "Duplicate task id with name [t1]");
    }

    [Fact]
    public void Duplicate_task_id_between_tasks_and_errors()
    {
        var p = Single(Head + """
            tasks:
              - id: t1
                type: io.kestra.plugin.core.debug.Return
            errors:
              - id: t1
                type: io.kestra.plugin.core.debug.Return
            """);
        AssertProblem(p, 7, 9, "Duplicate task id with name [t1]");
    }

    [Fact]
    public void Duplicate_input()
    {
        var p = Single(Head + """
            inputs:
              - id: first_input
                type: STRING
              - id: first_input
                type: STRING
            tasks:
              - id: a
                type: io.kestra.plugin.core.debug.Return
            """);
        AssertProblem(p, 6, 9, "Duplicate input with name [first_input]");
    }

    [Fact]
    public void Invalid_input_type()
    {
        var p = Single(Head + "inputs:\n  - id: x\n    type: FOO\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 5, 11, "Invalid type: FOO");
    }

    [Fact]
    public void File_input_with_defaults()
    {
        var p = Single(Head + "inputs:\n  - id: file\n    type: FILE\n    defaults: something\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 6, 15, "file: no `defaults` can be set for inputs of type 'FILE'");
    }

    [Fact]
    public void Array_input_of_arrays()
    {
        var p = Single(Head + "inputs:\n  - id: array\n    type: ARRAY\n    itemType: ARRAY\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 6, 15, "array: `itemType` cannot be `ARRAY`");
    }

    [Fact]
    public void Invalid_validator_regex()
    {
        var p = Single(Head + "inputs:\n  - id: s\n    type: STRING\n    validator: \"a(b\"\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 6, 16, "s: invalid pattern [a(b]");
    }

    [Fact]
    public void Input_defaults_of_the_wrong_type()
    {
        var p = Single(Head + "inputs:\n  - id: count\n    type: INT\n    defaults: many\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 6, 15, "count: `defaults` must be an integer");
    }

    [Fact]
    public void Input_defaults_expression_is_not_type_checked()
    {
        var result = Parser.Parse(Head + "inputs:\n  - id: count\n    type: INT\n    defaults: \"{{ 1 + 1 }}\"\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        Assert.True(result.IsValid, string.Join("\n", result.Problems));
    }

    [Fact]
    public void Dag_cycle()
    {
        var p = Single(Head + """
            tasks:
              - id: dag
                type: io.kestra.plugin.core.flow.Dag
                tasks:
                  - task:
                      id: task1
                      type: io.kestra.plugin.core.debug.Return
                    dependsOn: [task2]
                  - task:
                      id: task2
                      type: io.kestra.plugin.core.debug.Return
                    dependsOn: [task1]
                  - task:
                      id: task3
                      type: io.kestra.plugin.core.debug.Return
                    dependsOn: [task2]
            """);
        AssertProblem(p, 8, 11, "dag: Cyclic dependency detected: task1, task2");
    }

    [Fact]
    public void Dag_unknown_dependency()
    {
        var p = Single(Head + """
            tasks:
              - id: dag
                type: io.kestra.plugin.core.flow.Dag
                tasks:
                  - task:
                      id: task1
                      type: io.kestra.plugin.core.debug.Return
                    dependsOn:
                      - taskX
            """);
        AssertProblem(p, 11, 13, "dag: Not existing task id in dependency: taskX");
    }

    [Fact]
    public void Switch_without_any_task()
    {
        var p = Single(Head + "tasks:\n  - id: impossible\n    type: io.kestra.plugin.core.flow.Switch\n    value: x\n    cases: {}\n");
        AssertProblem(p, 4, 5, "impossible: No task defined, neither cases or default have any tasks");
    }

    [Fact]
    public void WorkingDirectory_without_tasks()
    {
        var p = Single(Head + "tasks:\n  - id: wd\n    type: io.kestra.plugin.core.flow.WorkingDirectory\n");
        AssertProblem(p, 4, 5, "wd: The 'tasks' property cannot be empty");
    }

    [Fact]
    public void Invalid_cron()
    {
        var p = Single(Head + """
            tasks:
              - id: a
                type: io.kestra.plugin.core.debug.Return
            triggers:
              - id: schedule
                type: io.kestra.plugin.core.trigger.Schedule
                cron: "61 * * * *"
            """);
        Assert.Equal((9, 11), (p.Position.Line, p.Position.Column));
        Assert.StartsWith("Invalid cron expression '61 * * * *'", p.Message);
        Assert.EndsWith("(expected 5 fields)", p.Message);
    }

    [Fact]
    public void Cron_with_seconds_needs_six_fields()
    {
        const string flow = Head + """
            tasks:
              - id: a
                type: io.kestra.plugin.core.debug.Return
            triggers:
              - id: schedule
                type: io.kestra.plugin.core.trigger.Schedule
                withSeconds: true
                cron: "{0}"
            """;
        var p = Single(flow.Replace("{0}", "*/5 * * * *"));
        Assert.True((10, 11) == (p.Position.Line, p.Position.Column), p.ToString());
        Assert.EndsWith("(expected 6 fields (withSeconds: true))", p.Message);
        Assert.True(Parser.Parse(flow.Replace("{0}", "*/5 * * * * *")).IsValid);
    }

    [Fact]
    public void Invalid_duration()
    {
        var p = Single(Head + "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: 5 minutes\n");
        AssertProblem(p, 6, 15, "Invalid duration '5 minutes' for 'duration': expected an ISO-8601 duration such as PT30S or P1DT2H");
    }

    [Fact]
    public void Duration_expression_is_accepted()
    {
        Assert.True(Parser.Parse(Head + "tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: \"{{ inputs.d }}\"\n").IsValid);
    }

    [Fact]
    public void Invalid_task_timeout()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    timeout: 1h\n");
        AssertProblem(p, 6, 14, "Invalid duration '1h' for 'timeout': expected an ISO-8601 duration such as PT30S or P1DT2H");
    }

    [Fact]
    public void Invalid_retry_interval()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    retry:\n      type: constant\n      interval: often\n");
        AssertProblem(p, 8, 17, "Invalid duration 'often' for 'interval': expected an ISO-8601 duration such as PT30S or P1DT2H");
    }

    [Fact]
    public void Unknown_retry_type()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    retry:\n      type: forever\n");
        AssertProblem(p, 7, 13, "Invalid type: forever (retry type must be one of constant, exponential, random)");
    }

    [Fact]
    public void Retry_missing_required_interval()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    retry:\n      type: constant\n      maxAttempt: 3\n");
        AssertProblem(p, 7, 7, "Missing required property 'interval'");
    }

    [Fact]
    public void Enum_value_not_allowed()
    {
        var p = Single(Head + "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n    level: VERBOSE\n");
        AssertProblem(p, 7, 12, "Invalid value 'VERBOSE' for 'level': expected one of TRACE, DEBUG, INFO, WARN, ERROR");
    }

    [Fact]
    public void Task_without_id()
    {
        var p = Single(Head + "tasks:\n  - type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 4, 5, "Missing required property 'id'");
    }

    [Fact]
    public void Task_without_type()
    {
        var p = Single(Head + "tasks:\n  - id: a\n");
        AssertProblem(p, 4, 5, "Invalid type: null (the task has no 'type' property)");
    }

    [Fact]
    public void Trigger_type_used_as_a_task()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k\n");
        AssertProblem(p, 5, 11, "Invalid type: io.kestra.plugin.core.trigger.Webhook is a trigger, it cannot be used as a task");
    }

    [Fact]
    public void Duplicate_trigger_id()
    {
        var p = Single(Head + """
            tasks:
              - id: a
                type: io.kestra.plugin.core.debug.Return
            triggers:
              - id: hook
                type: io.kestra.plugin.core.trigger.Webhook
                key: one
              - id: hook
                type: io.kestra.plugin.core.trigger.Webhook
                key: two
            """);
        AssertProblem(p, 10, 9, "Duplicate trigger id with name [hook]");
    }

    [Fact]
    public void Unknown_condition_type()
    {
        var p = Single(Head + """
            tasks:
              - id: a
                type: io.kestra.plugin.core.debug.Return
            triggers:
              - id: on-flow
                type: io.kestra.plugin.core.trigger.Flow
                conditions:
                  - type: io.kestra.plugin.core.condition.ExecutionStatu
                    in: [SUCCESS]
            """);
        AssertProblem(p, 10, 15, "Invalid type: io.kestra.plugin.core.condition.ExecutionStatu (did you mean io.kestra.plugin.core.condition.ExecutionStatus?)");
    }

    [Fact]
    public void Unknown_top_level_property()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\nschedule: daily\n");
        Assert.Equal((6, 1), (p.Position.Line, p.Position.Column));
        Assert.StartsWith("Unrecognized field \"schedule\" (class io.kestra.core.models.flows.Flow), not marked as ignorable (22 known properties: \"id\", \"namespace\"", p.Message);
    }

    [Fact]
    public void Errors_on_a_runnable_task_is_unknown()
    {
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    errors: []\n");
        Assert.Equal((6, 5), (p.Position.Line, p.Position.Column));
        Assert.StartsWith("Unrecognized field \"errors\" (class io.kestra.plugin.core.debug.Return)", p.Message);
    }

    [Fact]
    public void Label_without_value()
    {
        var p = Single(Head + "labels:\n  team:\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        Assert.Equal("Label 'team' must have a value", p.Message);
        Assert.Equal(4, p.Position.Line);
    }

    [Fact]
    public void Expression_checker_hook_reports_at_the_string()
    {
        var parser = new FlowParser(options: new FlowValidationOptions
        {
            ExpressionChecker = s => s.Contains("{{ }}", StringComparison.Ordinal) ? ["empty expression"] : [],
        });
        var p = Single(Head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n    format: \"x {{ }}\"\n", parser);
        AssertProblem(p, 6, 13, "empty expression");
        Assert.Equal("tasks[0].format", p.PropertyPath);
    }

    [Fact]
    public void Concurrency_without_limit()
    {
        var p = Single(Head + "concurrency:\n  behavior: CANCEL\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Return\n");
        AssertProblem(p, 4, 3, "Missing required property 'limit'");
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var result = Parser.Parse("id: ok\nnamespace: BAD\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Nope\n  - id: a\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: never\n");
        Assert.Equal(
            ["2:12: must match \"^[a-z0-9][a-z0-9._-]*\"", "5:11: Invalid type: io.kestra.plugin.core.debug.Nope", "6:9: Duplicate task id with name [a]",
             "8:15: Invalid duration 'never' for 'duration': expected an ISO-8601 duration such as PT30S or P1DT2H"],
            result.Problems.Select(p => p.ToString()).ToArray());
    }
}
