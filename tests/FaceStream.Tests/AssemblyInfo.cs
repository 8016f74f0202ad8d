using Xunit;

// Live-camera tests (RTSP servers, deadlines, reconnects) share two cores with the model-heavy tests; run test classes one
// at a time so that a starved RTSP server never looks like a stalled camera.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
