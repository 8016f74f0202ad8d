using System.Net;
using System.Net.Sockets;

namespace FaceStream.Tests.Support;

/// <summary>Ports for the test servers that are killed and restarted on the same port.</summary>
public static class TestPorts
{
    private const int First = 20000;
    private const int End = 32000;

    /// <summary>
    /// A free 127.0.0.1 port below the kernel's ephemeral range (32768+). A port from bind(0) is an ephemeral one: between
    /// our check and the server's bind, or while the server is down, a client socket (a camera or Redis client
    /// reconnecting, any outgoing connection) can take it as its own local port, even connect to itself, and the server
    /// then cannot listen there. Below the range no socket gets a port it did not ask for.
    /// </summary>
    public static int Free()
    {
        for (int tries = 0; ; tries++)
        {
            int port = Random.Shared.Next(First, End);
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException) when (tries < 100)
            {
            }
        }
    }
}
