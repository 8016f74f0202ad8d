using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FaceStream.Worker.Api;

/// <summary>What a token may do: viewers read, operators (and the original Api:Token, "admin") also change.</summary>
public enum ApiRole
{
    Viewer,
    Operator,
    Admin,
}

/// <summary>Who called: the role of the token presented, a name for the audit log and whether it came in the console's cookie.</summary>
/// <param name="Who">The role and the first hex digits of the token's SHA-256 (e.g. <c>operator#3fa2c1</c>): tells tokens apart in the audit log without revealing them.</param>
public sealed record ApiCaller(ApiRole Role, string Who, bool ViaCookie)
{
    public bool MayChange => Role >= ApiRole.Operator;

    public string RoleName => Role.ToString().ToLowerInvariant();
}

/// <summary>
/// Resolves the bearer token (Authorization header, or the console's login cookie) to a role. Tokens are compared in
/// constant time. A change sent with the cookie must also carry <see cref="ConsoleHeader"/>: another site can make a
/// browser send the cookie, but not a custom header (cross-site request forgery protection on top of SameSite=Strict).
/// </summary>
public static class ApiRoles
{
    public const string Cookie = "facestream_token";

    public const string ConsoleHeader = "X-FaceStream-Console";

    /// <summary>The API answers at all: at least one token is configured.</summary>
    public static bool Enabled(ApiOptions options) => options.Token.Length > 0 || options.OperatorToken.Length > 0 || options.ViewerToken.Length > 0;

    /// <summary>The caller of a request, or null when it presented no token or an unknown one.</summary>
    public static ApiCaller? Identify(HttpRequest request, ApiOptions options)
    {
        string? token = null;
        bool viaCookie = false;
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            token = header[scheme.Length..].Trim();
        }
        else if (request.Cookies.TryGetValue(Cookie, out var cookie) && cookie.Length > 0)
        {
            token = cookie;
            viaCookie = true;
        }

        return token is not null && RoleOf(token, options) is { } role ? new ApiCaller(role, $"{role.ToString().ToLowerInvariant()}#{Fingerprint(token)}", viaCookie) : null;
    }

    /// <summary>The role a token grants, or null. Every configured token is compared (constant time), so timing says nothing.</summary>
    public static ApiRole? RoleOf(string token, ApiOptions options)
    {
        var presented = Encoding.UTF8.GetBytes(token);
        ApiRole? role = null;
        foreach (var (configured, granted) in new[] { (options.ViewerToken, ApiRole.Viewer), (options.OperatorToken, ApiRole.Operator), (options.Token, ApiRole.Admin) })
        {
            if (configured.Length > 0 && CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(configured)))
            {
                role = granted;
            }
        }

        return role;
    }

    /// <summary>
    /// Why a request is refused (401, 403, 503), or null when it may go on; the caller is then stored in
    /// <see cref="HttpContext.Items"/> for <see cref="Caller"/>.
    /// </summary>
    public static IResult? Check(HttpContext context, ApiOptions options)
    {
        if (!Enabled(options))
        {
            return ApiProblems.Of(503, "the API is disabled: set Api:Token (a secret file Api__Token, or FACESTREAM__Api__Token)");
        }

        var request = context.Request;
        if (Identify(request, options) is not { } caller)
        {
            return ApiProblems.Of(401, "missing or wrong bearer token");
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            if (!caller.MayChange)
            {
                return ApiProblems.Of(403, $"the {caller.RoleName} token is read-only: changes need Api:OperatorToken or Api:Token");
            }

            if (caller.ViaCookie && !request.Headers.ContainsKey(ConsoleHeader))
            {
                return ApiProblems.Of(403, $"a change sent with the console's cookie needs the {ConsoleHeader} header (cross-site request protection)");
            }
        }

        context.Items[typeof(ApiCaller)] = caller;
        return null;
    }

    /// <summary>The caller <see cref="Check"/> admitted.</summary>
    public static ApiCaller Caller(HttpContext context) =>
        context.Items[typeof(ApiCaller)] as ApiCaller ?? throw new InvalidOperationException("no API caller: the endpoint is outside the /api group");

    private static string Fingerprint(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..6];
}
