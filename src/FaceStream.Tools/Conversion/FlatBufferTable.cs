using System.Buffers.Binary;
using System.Text;

namespace FaceStream.Tools.Conversion;

/// <summary>A read-only view of one FlatBuffers table, addressed by field index (no generated code needed).</summary>
/// <remarks>
/// TFLite files are FlatBuffers; there is no TFLite schema package on the registries we can reach, so the few
/// tables we need are read by their (public, append-only) field order.
/// </remarks>
internal readonly struct FlatBufferTable
{
    private readonly byte[] _buffer;
    private readonly int _position;

    public FlatBufferTable(byte[] buffer, int position)
    {
        _buffer = buffer;
        _position = position;
    }

    /// <summary>The root table of a buffer.</summary>
    public static FlatBufferTable Root(byte[] buffer)
    {
        if (buffer.Length < 8)
        {
            throw new InvalidDataException("file too small to be a FlatBuffer");
        }

        return new FlatBufferTable(buffer, checked((int)ReadU32(buffer, 0)));
    }

    public bool IsNull => _buffer is null;

    private static uint ReadU32(byte[] b, int at)
    {
        if (at < 0 || at + 4 > b.Length)
        {
            throw new InvalidDataException($"FlatBuffer offset {at} is outside the file ({b.Length} bytes)");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
    }

    /// <summary>Absolute position of a field's data, or 0 when the field is absent (default value).</summary>
    private int FieldPosition(int fieldIndex)
    {
        int vtable = _position - BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_position));
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(vtable));
        int slot = 4 + (2 * fieldIndex);
        if (slot >= vtableSize)
        {
            return 0;
        }

        int offset = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(vtable + slot));
        return offset == 0 ? 0 : _position + offset;
    }

    public bool Has(int fieldIndex) => FieldPosition(fieldIndex) != 0;

    public int GetInt(int fieldIndex, int defaultValue = 0)
    {
        int p = FieldPosition(fieldIndex);
        return p == 0 ? defaultValue : BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(p));
    }

    public uint GetUInt(int fieldIndex, uint defaultValue = 0)
    {
        int p = FieldPosition(fieldIndex);
        return p == 0 ? defaultValue : BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p));
    }

    public byte GetByte(int fieldIndex, byte defaultValue = 0)
    {
        int p = FieldPosition(fieldIndex);
        return p == 0 ? defaultValue : _buffer[p];
    }

    public bool GetBool(int fieldIndex, bool defaultValue = false)
    {
        int p = FieldPosition(fieldIndex);
        return p == 0 ? defaultValue : _buffer[p] != 0;
    }

    private int Indirect(int p) => p + (int)ReadU32(_buffer, p);

    public FlatBufferTable GetTable(int fieldIndex)
    {
        int p = FieldPosition(fieldIndex);
        return p == 0 ? default : new FlatBufferTable(_buffer, Indirect(p));
    }

    public string? GetString(int fieldIndex)
    {
        int p = FieldPosition(fieldIndex);
        if (p == 0)
        {
            return null;
        }

        int s = Indirect(p);
        int len = (int)ReadU32(_buffer, s);
        return Encoding.UTF8.GetString(_buffer, s + 4, len);
    }

    /// <summary>Start and length of a vector field; (0, 0) when absent.</summary>
    private (int Start, int Length) Vector(int fieldIndex)
    {
        int p = FieldPosition(fieldIndex);
        if (p == 0)
        {
            return (0, 0);
        }

        int v = Indirect(p);
        int len = checked((int)ReadU32(_buffer, v));
        return (v + 4, len);
    }

    public int VectorLength(int fieldIndex) => Vector(fieldIndex).Length;

    public int[] GetIntVector(int fieldIndex)
    {
        var (start, len) = Vector(fieldIndex);
        var result = new int[len];
        for (int i = 0; i < len; i++)
        {
            result[i] = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(start + (4 * i)));
        }

        return result;
    }

    public ReadOnlyMemory<byte> GetByteVector(int fieldIndex)
    {
        var (start, len) = Vector(fieldIndex);
        if (start + len > _buffer.Length)
        {
            throw new InvalidDataException("FlatBuffer byte vector runs past the end of the file");
        }

        return new ReadOnlyMemory<byte>(_buffer, start, len);
    }

    public FlatBufferTable GetTableElement(int fieldIndex, int element)
    {
        var (start, len) = Vector(fieldIndex);
        if ((uint)element >= (uint)len)
        {
            throw new IndexOutOfRangeException($"FlatBuffer vector element {element} of {len}");
        }

        return new FlatBufferTable(_buffer, Indirect(start + (4 * element)));
    }
}
