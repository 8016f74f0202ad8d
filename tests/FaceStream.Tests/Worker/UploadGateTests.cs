using FaceStream.Worker.Api;
using Xunit;

namespace FaceStream.Tests.Worker;

/// <summary>
/// The worker's one upload gate: uploads are admitted by count and by decoded pixels together, in arrival order, and
/// every place taken is given back (also when a client goes away while waiting).
/// </summary>
public class UploadGateTests
{
    private const long MP = 1_000_000;

    [Fact]
    public async Task Small_images_run_side_by_side_but_not_beyond_the_pixel_budget()
    {
        using var gate = new UploadGate(slots: 3, pixelBudget: 10 * MP, TimeSpan.Zero);
        using var a = await gate.EnterAsync(4 * MP, default);
        using var b = await gate.EnterAsync(4 * MP, default);
        Assert.NotNull(a);
        Assert.NotNull(b);

        // A third slot is free, but 4 + 4 + 3 MP is over the budget.
        Assert.Null(await gate.EnterAsync(3 * MP, default));
        using var c = await gate.EnterAsync(2 * MP, default);
        Assert.NotNull(c);

        // And the count bounds small ones: three places, three taken.
        Assert.Null(await gate.EnterAsync(1, default));
    }

    [Fact]
    public async Task An_image_over_the_budget_or_of_unknown_size_runs_alone()
    {
        using var gate = new UploadGate(slots: 2, pixelBudget: 10 * MP, TimeSpan.Zero);
        var huge = await gate.EnterAsync(48 * MP, default);
        Assert.NotNull(huge);
        Assert.Null(await gate.EnterAsync(1, default));
        huge!.Dispose();
        huge.Dispose(); // leaving twice gives back once

        var unknown = await gate.EnterAsync(null, default);
        Assert.NotNull(unknown);
        Assert.Null(await gate.EnterAsync(1, default));
        unknown!.Dispose();

        using var a = await gate.EnterAsync(5 * MP, default);
        using var b = await gate.EnterAsync(5 * MP, default);
        Assert.NotNull(a);
        Assert.NotNull(b);
    }

    [Fact]
    public async Task A_waiting_large_image_is_not_overtaken_by_smaller_ones_that_came_later()
    {
        using var gate = new UploadGate(slots: 4, pixelBudget: 10 * MP, TimeSpan.FromSeconds(30));
        var first = await gate.EnterAsync(6 * MP, default);
        Assert.NotNull(first);

        var large = gate.EnterAsync(9 * MP, default);
        var small = gate.EnterAsync(2 * MP, default); // would fit beside the first, but the large one waits before it
        await Task.Delay(200);
        Assert.False(large.IsCompleted);
        Assert.False(small.IsCompleted);

        first!.Dispose();
        using var largeIn = await large.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(largeIn);
        await Task.Delay(200);
        Assert.False(small.IsCompleted); // 9 + 2 MP is over the budget

        largeIn!.Dispose();
        using var smallIn = await small.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(smallIn);
    }

    [Fact]
    public async Task A_wait_ends_with_no_place_after_the_queue_timeout_and_a_client_that_goes_away_takes_nothing_with_it()
    {
        using var gate = new UploadGate(slots: 1, pixelBudget: 10 * MP, TimeSpan.FromMilliseconds(300));
        var held = await gate.EnterAsync(MP, default);
        Assert.NotNull(held);

        // Told to come back: the caller answers 429 with Retry-After.
        Assert.Null(await gate.EnterAsync(MP, default));
        Assert.Equal(1, gate.RetryAfterSeconds);

        // The client disconnects while it waits: its wait is cancelled, not turned into a 429, and leaves no place taken.
        using (var client = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync(MP, client.Token));
        }

        held!.Dispose();
        using var next = await gate.EnterAsync(10 * MP, default);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task A_client_that_goes_away_while_waiting_for_pixels_gives_its_slot_back()
    {
        using var gate = new UploadGate(slots: 2, pixelBudget: 10 * MP, TimeSpan.FromSeconds(30));
        var big = await gate.EnterAsync(9 * MP, default);
        Assert.NotNull(big);

        // It gets the second slot at once and then waits for pixels; its client goes away meanwhile.
        using (var client = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync(5 * MP, client.Token));
        }

        // Had that slot leaked, this one (1 MP fits beside the 9) would find both slots taken.
        using var small = await gate.EnterAsync(MP, default).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(small);
        big!.Dispose();
    }
}
