using FaceStream.Worker.Hosting;

// The worker as its own executable (for systemd or a container); `facestream run` starts the same host.
return await WorkerHost.RunAsync(args);
