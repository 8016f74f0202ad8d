using FaceStream.Worker.Cluster;
using Xunit;

namespace FaceStream.Tests.Worker.Cluster;

/// <summary>Cluster:Capacity weighs a worker's fair share of the cameras: ⌊⌋ and ⌈⌉ of cameras × capacity ÷ the live workers' total.</summary>
public class FairShareTests
{
    [Theory]
    // Equal capacities: cameras ÷ workers, as before capacities existed.
    [InlineData(6, 1, 3, 2, 2)]
    [InlineData(7, 1, 3, 2, 3)]
    [InlineData(0, 1, 2, 0, 0)]
    // Capacities 1 and 2 over six cameras: 2 and 4.
    [InlineData(6, 2, 3, 4, 4)]
    // Fractions: 5 cameras, capacity 1.5 of 2.5 is exactly 3.
    [InlineData(5, 1.5, 2.5, 3, 3)]
    [InlineData(5, 1, 2.5, 2, 2)]
    // 6 × 0.1 ÷ 0.3 is 2.0000000000000004 in doubles (6 × 0.2 ÷ 0.3 is 4.000000000000001): still shares of 2 and 4, not 3 and 5.
    [InlineData(6, 0.1, 0.3, 2, 2)]
    [InlineData(6, 0.2, 0.3, 4, 4)]
    // Alone: all of them.
    [InlineData(9, 4, 4, 9, 9)]
    public void A_workers_share_is_its_part_of_the_cameras_by_capacity(int cameras, double capacity, double total, int floor, int ceiling) =>
        Assert.Equal((floor, ceiling), FairShare.Of(cameras, capacity, total));

    [Fact]
    public void The_rounded_up_shares_of_the_live_workers_always_cover_every_camera()
    {
        double[][] fleets = [[1, 2], [1, 1, 1], [0.5, 3, 1.25], [7, 0.1], [1, 1, 1, 1, 1, 1, 1]];
        foreach (var fleet in fleets)
        {
            for (int cameras = 0; cameras <= 50; cameras++)
            {
                double total = fleet.Sum();
                var shares = fleet.Select(c => FairShare.Of(cameras, c, total)).ToList();
                Assert.True(shares.Sum(s => s.Ceiling) >= cameras, $"{cameras} cameras over [{string.Join(", ", fleet)}]: ceilings {string.Join(", ", shares)}");
                Assert.True(shares.Sum(s => s.Floor) <= cameras, $"{cameras} cameras over [{string.Join(", ", fleet)}]: floors {string.Join(", ", shares)}");
            }
        }
    }
}
