using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Windhover.Engine.Executions;

/// <summary>Ids are 22-character base62 renderings of 128 bits, like Kestra's <c>IdUtils</c>.</summary>
public static class IdGenerator
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A fresh id from 128 random bits.</summary>
    public static string Create()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Encode(bytes);
    }

    /// <summary>
    /// A deterministic id derived from <paramref name="parts"/> (the first 128 bits of their SHA-256). The executor uses it
    /// so that applying the same event to the same execution always yields the same ids.
    /// </summary>
    public static string Derive(params ReadOnlySpan<string?> parts)
    {
        var builder = new StringBuilder();
        foreach (var part in parts)
        {
            builder.Append(part ?? "\u0000").Append('\u001f');
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString()), hash);
        return Encode(hash[..16]);
    }

    public static bool IsValid(string? id) => id is { Length: 22 } && id.All(c => Alphabet.Contains(c, StringComparison.Ordinal));

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits, big-endian, in base 62 (22 digits): UInt128 arithmetic, no BigInteger allocations.
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        Span<char> chars = stackalloc char[22];
        for (var i = 21; i >= 0; i--)
        {
            (value, var remainder) = UInt128.DivRem(value, 62);
            chars[i] = Alphabet[(int)(ulong)remainder];
        }

        return new string(chars);
    }
}
