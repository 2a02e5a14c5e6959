using System.Security.Cryptography;
using System.Text;

namespace Windhover.Engine.Inputs;

/// <summary>
/// Encryption of SECRET inputs at rest, as Kestra's <c>EncryptionService</c> with <c>kestra.encryption.secret-key</c>:
/// AES/GCM (128-bit tag) keyed with the UTF-8 bytes of the configured key (16, 24 or 32 bytes), a random 12-byte IV,
/// stored as base64(IV ‖ ciphertext ‖ tag). Executions hold the encrypted text; tasks see the decrypted value.
/// </summary>
public sealed class SecretEncryption
{
    private const int IvLength = 12;
    private const int TagLength = 16;
    private readonly byte[] _key;

    public SecretEncryption(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = Encoding.UTF8.GetBytes(key);
        if (_key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException($"The encryption key must be 16, 24 or 32 bytes long (32 characters for AES-256), got {_key.Length}", nameof(key));
        }
    }

    public string Encrypt(string plainText)
    {
        ArgumentNullException.ThrowIfNull(plainText);
        var plain = Encoding.UTF8.GetBytes(plainText);
        var output = new byte[IvLength + plain.Length + TagLength];
        var iv = output.AsSpan(0, IvLength);
        RandomNumberGenerator.Fill(iv);
        using var aes = new AesGcm(_key, TagLength);
        aes.Encrypt(iv, plain, output.AsSpan(IvLength, plain.Length), output.AsSpan(IvLength + plain.Length, TagLength));
        return Convert.ToBase64String(output);
    }

    /// <summary>The plain text of <paramref name="encrypted"/>; throws <see cref="CryptographicException"/> when it was not encrypted with this key.</summary>
    public string Decrypt(string encrypted)
    {
        ArgumentNullException.ThrowIfNull(encrypted);
        byte[] data;
        try
        {
            data = Convert.FromBase64String(encrypted);
        }
        catch (FormatException e)
        {
            throw new CryptographicException("The value is not an encrypted secret", e);
        }

        if (data.Length < IvLength + TagLength)
        {
            throw new CryptographicException("The value is not an encrypted secret");
        }

        var length = data.Length - IvLength - TagLength;
        var plain = new byte[length];
        using var aes = new AesGcm(_key, TagLength);
        aes.Decrypt(data.AsSpan(0, IvLength), data.AsSpan(IvLength, length), data.AsSpan(IvLength + length, TagLength), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Decrypts <paramref name="encrypted"/>, or returns null when it cannot (another key, not encrypted).</summary>
    public string? TryDecrypt(string encrypted)
    {
        try
        {
            return Decrypt(encrypted);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
