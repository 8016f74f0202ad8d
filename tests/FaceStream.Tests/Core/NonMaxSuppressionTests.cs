using FaceStream.Core.Detection;
using Xunit;

namespace FaceStream.Tests.Core;

public class NonMaxSuppressionTests
{
    [Fact]
    public void Union_mode_drops_a_box_overlapping_a_better_one_above_the_threshold()
    {
        // Inclusive areas: A = 11·11 = 121, B shifted by 1 px → intersection 10·11 = 110, IoU = 110 / 132 = 0.833.
        Candidate[] items = [new(0, 0, 10, 10, 0.8f), new(1, 0, 11, 10, 0.9f), new(50, 50, 60, 60, 0.5f)];
        int kept = NonMaxSuppression.Apply(items, 0.7f, NmsMode.Union);
        Assert.Equal(2, kept);
        Assert.Equal(0.9f, items[0].Score);
        Assert.Equal(0.5f, items[1].Score);
    }

    [Fact]
    public void Union_mode_keeps_both_when_overlap_is_below_the_threshold()
    {
        // IoU = 110 / 132 = 0.833 > 0.7 but < 0.9.
        Candidate[] items = [new(0, 0, 10, 10, 0.8f), new(1, 0, 11, 10, 0.9f)];
        Assert.Equal(2, NonMaxSuppression.Apply(items, 0.9f, NmsMode.Union));
    }

    [Fact]
    public void Min_mode_removes_a_box_nested_inside_a_larger_one()
    {
        // Small box inside big: intersection / min area = 1 whatever IoU is (IoU here = 121 / 441 = 0.27).
        Candidate[] items = [new(0, 0, 20, 20, 0.95f), new(5, 5, 15, 15, 0.9f)];
        Assert.Equal(2, NonMaxSuppression.Apply(items.ToArray(), 0.7f, NmsMode.Union));
        Assert.Equal(1, NonMaxSuppression.Apply(items, 0.7f, NmsMode.Min));
    }

    [Fact]
    public void Boxes_of_different_frames_never_suppress_each_other()
    {
        Candidate[] items = [new(0, 0, 10, 10, 0.9f) { Frame = 0 }, new(0, 0, 10, 10, 0.8f) { Frame = 1 }];
        Assert.Equal(2, NonMaxSuppression.Apply(items, 0.5f, NmsMode.Union));
    }
}
