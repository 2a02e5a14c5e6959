using Windhover.Engine.Executions;
using Windhover.Engine.Executor;
using Windhover.Engine.Tests.Support;
using Windhover.Flows.Model;
using static Windhover.Engine.Tests.Support.F;

namespace Windhover.Engine.Tests.Executor;

public sealed class RetryPauseWaitTests
{
    [Fact]
    public void Retry_succeeds_on_fourth_attempt_with_warning_on_retry()
    {
        var task = LogT("failed") with { Retry = Constant(TimeSpan.FromMilliseconds(250), maxAttempt: 4, maxDuration: TimeSpan.FromSeconds(15), warningOnRetry: true) };
        var h = new Harness(Of(task) with { Errors = [LogT("never-happen")] });
        h.Workers["failed"] = (run, attempt) =>
        {
            Assert.Equal((long)attempt, ((IReadOnlyDictionary<string, object?>)run.Variables["taskrun"]!)["attemptsCount"]);
            return new WorkerOutcome(attempt == 3 ? State.Success : State.Failed);
        };
        h.RunToEnd();

        Assert.Equal(State.Warning, h.Execution.State.Current);
        Assert.Equal(1, h.Count);
        var run = h.Run("failed");
        Assert.Equal(4, run.AttemptCount);
        Assert.Equal([State.Failed, State.Failed, State.Failed, State.Success], run.Attempts!.Value.Select(a => a.State.Current));
        Assert.Equal(3, run.State.Count(State.Retrying));
        Assert.Equal(3, h.WorkOf<SetTimer>().Count(t => t.Timer.Kind == TimerKind.RetryTask));
        var timers = h.WorkOf<SetTimer>().ToList();
        Assert.Equal(TimeSpan.FromMilliseconds(250), timers[0].Timer.DueAt - run.Attempts!.Value[0].State.MaxDate);
    }

    [Fact]
    public void Retry_exhausted_fails_and_stops_following_tasks()
    {
        var task = FailT("keepFailingWithRetry") with { Retry = Constant(TimeSpan.FromSeconds(1), maxAttempt: 3) };
        var h = new Harness(Of(task, LogT("thisTaskShouldNotBeExecuted")) with { Errors = [LogT("error")] }).RunToEnd();

        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(2, h.Count);
        Assert.Equal(3, h.Run("keepFailingWithRetry").AttemptCount);
        Assert.Equal(State.Success, h.StateOf("error"));
    }

    [Fact]
    public void Retry_max_duration_bounds_attempts()
    {
        var task = FailT("fail") with { Retry = Constant(TimeSpan.FromSeconds(2), maxDuration: TimeSpan.FromSeconds(6)) };
        var h = new Harness(Of(task)).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(3, h.Run("fail").AttemptCount);
    }

    [Fact]
    public void Flow_level_retry_applies_to_tasks()
    {
        var h = new Harness(Of(FailT("fail")) with { Retry = Constant(TimeSpan.FromSeconds(1), maxAttempt: 4) }).RunToEnd();
        Assert.Equal(4, h.Run("fail").AttemptCount);
    }

    [Fact]
    public void Retry_on_a_flowable_retries_its_failing_child()
    {
        var flowable = Seq("flowable", FailT("child")) with { Retry = Constant(TimeSpan.FromSeconds(1), maxAttempt: 3) };
        var h = new Harness(Of(flowable)).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(3, h.Execution.TaskRunList[1].AttemptCount);
        Assert.Null(h.Run("flowable").Attempts);

        var nested = Seq("flowable", Seq("flowable2", FailT("child") with { Retry = Constant(TimeSpan.FromSeconds(1), maxAttempt: 3) }));
        var n = new Harness(Of(nested)).RunToEnd();
        Assert.Equal(3, n.Execution.TaskRunList[2].AttemptCount);
    }

    [Fact]
    public void Exponential_and_random_delays()
    {
        var exponential = new RetryDefinition { Kind = RetryKind.Exponential, Interval = TimeSpan.FromSeconds(1), DelayFactor = 2, MaxInterval = TimeSpan.FromSeconds(5) };
        Assert.Equal(TimeSpan.FromSeconds(1), Retries.Delay(exponential, 1, "x"));
        Assert.Equal(TimeSpan.FromSeconds(4), Retries.Delay(exponential, 3, "x"));
        Assert.Equal(TimeSpan.FromSeconds(5), Retries.Delay(exponential, 4, "x"));

        var random = new RetryDefinition { Kind = RetryKind.Random, MinInterval = TimeSpan.FromSeconds(1), MaxInterval = TimeSpan.FromSeconds(2) };
        var delay = Retries.Delay(random, 1, "seed");
        Assert.InRange(delay, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(delay, Retries.Delay(random, 1, "seed"));
    }

    [Fact]
    public void Create_new_execution_marks_retried_and_requests_a_new_execution()
    {
        var task = FailT("fail") with { Retry = Constant(TimeSpan.FromSeconds(1), maxAttempt: 3, behavior: RetryBehavior.CreateNewExecution) };
        var flow = Of(task);
        var h = new Harness(flow).RunToEnd();
        Assert.Equal(State.Retried, h.Execution.State.Current);
        var request = Assert.Single(h.WorkOf<RetryExecution>());
        Assert.Equal(h.Execution.Id, request.ExecutionId);

        var states = new List<State> { h.Execution.State.Current };
        var current = h.Execution;
        for (var i = 0; i < 5 && current.State.Current == State.Retried; i++)
        {
            var next = Windhover.Engine.Executor.Executor.CreateRetryExecution(current, IdGenerator.Create(), request.DueAt);
            Assert.Equal(h.Execution.Id, next.OriginalId);
            var run = new Harness(flow);
            typeof(Harness).GetProperty(nameof(Harness.Execution))!.SetValue(run, next);
            run.RunToEnd();
            current = run.Execution;
            states.Add(current.State.Current);
        }

        Assert.Equal([State.Retried, State.Retried, State.Failed], states);
        Assert.Equal(3, current.Metadata!.AttemptNumber);
    }

    [Fact]
    public void Pause_without_delay_waits_for_resume_with_inputs()
    {
        var pause = Flowable("pause", "Pause", L(LogT("ko")));
        var h = new Harness(Of(pause, Ret("last"))).RunToEnd();
        Assert.Equal(State.Paused, h.Execution.State.Current);
        Assert.Equal(1, h.Count);
        Assert.Equal(State.Paused, h.StateOf("pause"));

        h.Apply(new ResumeExecution(h.Now, new Dictionary<string, object?> { ["asked"] = "yes" })).Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(3, h.Count);
        Assert.Equal("yes", ((IReadOnlyDictionary<string, object?>)h.Run("pause").Outputs!["onResume"]!)["asked"]);
        Assert.Equal([State.Created, State.Running, State.Paused, State.Running, State.Success], h.History());
    }

    [Fact]
    public void Pause_delay_resumes_by_timer()
    {
        var pause = Flowable("pause", "Pause", L(LogT("subtask")), ("delay", "PT1S"));
        var h = new Harness(Of(pause, Ret("last"))).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(3, h.Count);
        Assert.Contains(State.Paused, h.History());
        Assert.Equal(1, h.Run("pause").State.Count(State.Paused));
        Assert.Equal(2, h.Run("pause").State.Count(State.Running));
        var timer = Assert.Single(h.WorkOf<SetTimer>()).Timer;
        Assert.Equal(TimerKind.PauseDelay, timer.Kind);
    }

    [Fact]
    public void Pause_timeout_fails()
    {
        var pause = Flowable("pause", "Pause", L(LogT("ko")), ("timeout", "PT1S"));
        var h = new Harness(Of(pause, Ret("last"))).RunToEnd();
        Assert.Equal(State.Failed, h.Execution.State.Current);
        Assert.Equal(1, h.Count);
        var run = h.Run("pause");
        Assert.Equal(1, run.State.Count(State.Paused));
        Assert.Equal(1, run.State.Count(State.Running));
        Assert.Equal(1, run.State.Count(State.Failed));
    }

    [Fact]
    public void Pause_without_tasks_succeeds_on_resume()
    {
        var h = new Harness(Of(T("pause", FlowNs + "Pause"), Ret("last"))).RunToEnd();
        Assert.Equal(State.Paused, h.Execution.State.Current);
        h.Apply(new ResumeExecution(h.Now)).Run();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(2, h.Count);
    }

    [Fact]
    public void Parallel_branch_keeps_running_while_another_pauses()
    {
        var each = Flowable("each", "EachParallel", L(Flowable("pause", "Pause", L(), ("delay", "PT1S")), LogT("log")), ("value", "[\"a\", \"b\"]"));
        var h = new Harness(Of(each)).RunToEnd();
        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(5, h.Count);
    }

    [Fact]
    public void WaitFor_loops_until_the_condition_is_true()
    {
        var waitFor = Flowable("waitfor", "WaitFor", L(T("output_values", OutputValues, ("values", new Dictionary<string, object?> { ["count"] = "{{ outputs.waitfor.iterationCount }}" }))),
            ("condition", "{{ outputs.output_values.values.done }}"), ("checkFrequency", new Dictionary<string, object?> { ["interval"] = "PT0.2S" }));
        var h = new Harness(Of(waitFor));
        h.Workers["output_values"] = (run, _) =>
        {
            var count = (long)((IReadOnlyDictionary<string, object?>)((IReadOnlyDictionary<string, object?>)run.Variables["outputs"]!)["waitfor"]!)["iterationCount"]!;
            return new WorkerOutcome(State.Success, new Dictionary<string, object?> { ["values"] = new Dictionary<string, object?> { ["done"] = count + 1 == 4 } });
        };
        h.RunToEnd();

        Assert.Equal(State.Success, h.Execution.State.Current);
        Assert.Equal(4L, h.Run("waitfor").Outputs!["iterationCount"]);
        Assert.Equal([0, 1, 2, 3], h.Runs("output_values").Select(r => r.Iteration!.Value));
        Assert.Equal(3, h.WorkOf<SetTimer>().Count(t => t.Timer.Kind == TimerKind.WaitForNext));
    }

    [Theory]
    [InlineData(true, State.Failed)]
    [InlineData(false, State.Success)]
    public void WaitFor_max_iterations(bool failOnMaxReached, State expected)
    {
        var waitFor = Flowable("waitfor", "WaitFor", L(LogT("log")),
            ("condition", "{{ inputs.never }}"), ("failOnMaxReached", failOnMaxReached),
            ("checkFrequency", new Dictionary<string, object?> { ["maxIterations"] = 3L, ["interval"] = "PT0.2S" }));
        var h = new Harness(Of(waitFor), new Dictionary<string, object?> { ["never"] = false }).RunToEnd();
        Assert.Equal(expected, h.Execution.State.Current);
        Assert.Equal(3, h.Runs("log").Count());
    }

    [Fact]
    public void WaitFor_child_failure_fails_the_loop()
    {
        var waitFor = Flowable("waitfor", "WaitFor", L(FailT("ko")), ("condition", "{{ inputs.never }}"));
        var h = new Harness(Of(waitFor), new Dictionary<string, object?> { ["never"] = false }).RunToEnd();
        Assert.Equal(State.Failed, h.StateOf("waitfor"));
        Assert.Equal(2, h.Count);
    }
}
