package afq.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * Reads a JDBC ResultSet into Arrow-layout column buffers, one batch at a time.
 *
 * <p>Python (JPype) crosses into the JVM a few times per batch - {@link #fill}, {@link #buffers}, {@link #layout} -
 * instead of once or twice per value. The buffers are Arrow's: a validity bitmap (LSB first), fixed-width values in
 * little-endian order, or int32 offsets and bytes for strings (UTF-8) and binary. Python wraps them with
 * {@code pyarrow.Array.from_buffers} without touching a value.
 *
 * <p>Values are read with the same typed getters as adapters/jdbc/driver.py's per-value readers, and converted
 * as strictly: a decimal that needs rounding or more digits than its column's precision, a date or timestamp outside
 * the Arrow type's range, a string with an unpaired UTF-16 surrogate - each is a {@link BadValue} naming the column,
 * never a silently changed value. Timestamps are floored to milliseconds (Athena's precision).
 *
 * <p>Compiled by adapters/jdbc/helper.py with {@code javac --release 11}; the JVM class path does not need it
 * (it is loaded through its own class loader when it is not there).
 */
public final class ColumnarReader {
    /** Column kinds: what is read with which getter, and how it is laid out. */
    public static final int INT64 = 0;
    public static final int FLOAT64 = 1;
    public static final int FLOAT32 = 2;
    public static final int BOOL = 3;
    public static final int DECIMAL = 4;
    public static final int DATE32 = 5;
    public static final int TIMESTAMP_MS = 6;
    public static final int TIMESTAMP_MS_TZ = 7;
    public static final int BINARY = 8;
    public static final int UTF8 = 9;

    /** Longs per column in {@link #layout}. */
    public static final int LAYOUT_WIDTH = 7;

    /** A value that cannot be represented in its column's Arrow type. */
    public static final class BadValue extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int column;

        BadValue(int column, String message, Throwable cause) {
            super(message, cause);
            this.column = column;
        }

        /** The 0-based column index. */
        public int column() {
            return column;
        }
    }

    private static final int MAX_BUFFER = Integer.MAX_VALUE - 64;

    /** A growable little-endian byte buffer. */
    private static final class Buf {
        byte[] a;
        int n;

        Buf(int capacity) {
            a = new byte[capacity];
        }

        void ensure(int more, int column) {
            long need = (long) n + more;
            if (need > a.length) {
                if (need > MAX_BUFFER) {
                    throw new BadValue(column, "a batch of this column would exceed 2 GiB", null);
                }
                a = Arrays.copyOf(a, (int) Math.min(MAX_BUFFER, Math.max(need, 2L * a.length)));
            }
        }

        void putInt(int v) {
            byte[] b = a;
            int i = n;
            b[i] = (byte) v;
            b[i + 1] = (byte) (v >>> 8);
            b[i + 2] = (byte) (v >>> 16);
            b[i + 3] = (byte) (v >>> 24);
            n = i + 4;
        }

        void putLong(long v) {
            byte[] b = a;
            int i = n;
            b[i] = (byte) v;
            b[i + 1] = (byte) (v >>> 8);
            b[i + 2] = (byte) (v >>> 16);
            b[i + 3] = (byte) (v >>> 24);
            b[i + 4] = (byte) (v >>> 32);
            b[i + 5] = (byte) (v >>> 40);
            b[i + 6] = (byte) (v >>> 48);
            b[i + 7] = (byte) (v >>> 56);
            n = i + 8;
        }

        void zeros(int count) {
            Arrays.fill(a, n, n + count, (byte) 0);
            n += count;
        }
    }

    private final ResultSet rs;
    private final int[] kinds;
    private final int[] precisions;
    private final int[] scales;
    private final int[] widths;
    private final int count;
    private final Buf[] validity;
    private final Buf[] data;
    private final Buf[] offsets;
    private final int[] nulls;
    private int rows;
    private boolean exhausted;

    /**
     * @param rs the open result set, positioned before its first row
     * @param kinds one of the kind constants per result column, in order
     * @param precisions decimal columns: the precision (digits); ignored for other kinds
     * @param scales decimal columns: the scale; ignored for other kinds
     * @param widths decimal columns: the Arrow byte width (4, 8, 16 or 32); ignored for other kinds
     */
    public ColumnarReader(ResultSet rs, int[] kinds, int[] precisions, int[] scales, int[] widths) {
        this.rs = rs;
        this.kinds = kinds.clone();
        this.precisions = precisions.clone();
        this.scales = scales.clone();
        this.widths = widths.clone();
        this.count = kinds.length;
        if (precisions.length != count || scales.length != count || widths.length != count) {
            throw new IllegalArgumentException("kinds, precisions, scales and widths differ in length");
        }
        validity = new Buf[count];
        data = new Buf[count];
        offsets = new Buf[count];
        nulls = new int[count];
        for (int c = 0; c < count; c++) {
            int kind = kinds[c];
            if (kind < INT64 || kind > UTF8) {
                throw new IllegalArgumentException("unknown column kind " + kind);
            }
            if (kind == DECIMAL && widths[c] != 4 && widths[c] != 8 && widths[c] != 16 && widths[c] != 32) {
                throw new IllegalArgumentException("decimal width " + widths[c]);
            }
            validity[c] = new Buf(256);
            data[c] = new Buf(kind == BOOL ? 256 : 4096);
            offsets[c] = kind == BINARY || kind == UTF8 ? new Buf(1024) : null;
        }
    }

    /** True once the result set has no more rows. */
    public boolean exhausted() {
        return exhausted;
    }

    /** Rows in the current batch. */
    public int rows() {
        return rows;
    }

    /**
     * Reads the next batch: up to {@code maxRows} rows, fewer once the batch holds {@code minRows} rows and
     * {@code maxBytes} bytes of values.
     *
     * @return the number of rows read; 0 when the result set is exhausted
     */
    public int fill(int maxRows, int minRows, long maxBytes) throws SQLException {
        for (int c = 0; c < count; c++) { // bitmaps are zeroed a byte at a time as they grow
            validity[c].n = 0;
            data[c].n = 0;
            nulls[c] = 0;
            if (offsets[c] != null) {
                offsets[c].n = 0;
                offsets[c].putInt(0);
            }
        }
        int n = 0;
        long bytes = 0;
        while (n < maxRows && !exhausted && (n < minRows || bytes < maxBytes)) {
            if (!rs.next()) {
                exhausted = true;
                break;
            }
            bytes = 0;
            for (int c = 0; c < count; c++) {
                read(c, n);
                bytes += data[c].n;
            }
            n++;
        }
        rows = n;
        return n;
    }

    private void read(int c, int row) throws SQLException {
        Buf bits = validity[c];
        int byteIndex = row >>> 3;
        if (byteIndex >= bits.n) {
            bits.ensure(1, c);
            bits.a[bits.n++] = 0;
        }
        boolean present;
        try {
            present = readValue(c, row);
        } catch (SQLException | ArithmeticException | ClassCastException | IllegalArgumentException e) {
            // A getter that fails is the value's fault (the driver cannot convert it); fetching rows is next()'s.
            throw new BadValue(c, String.valueOf(e.getMessage()), e);
        }
        if (present) {
            bits.a[byteIndex] |= (byte) (1 << (row & 7));
        } else {
            nulls[c]++;
        }
    }

    /** Appends the value of column {@code c} at {@code row}; false when it is NULL (a zero slot is appended). */
    private boolean readValue(int c, int row) throws SQLException {
        int i = c + 1;
        Buf out = data[c];
        switch (kinds[c]) {
            case INT64: {
                long v = rs.getLong(i);
                boolean present = !rs.wasNull();
                out.ensure(8, c);
                out.putLong(present ? v : 0L);
                return present;
            }
            case FLOAT64: {
                double v = rs.getDouble(i);
                boolean present = !rs.wasNull();
                out.ensure(8, c);
                out.putLong(present ? Double.doubleToRawLongBits(v) : 0L);
                return present;
            }
            case FLOAT32: {
                float v = rs.getFloat(i);
                boolean present = !rs.wasNull();
                out.ensure(4, c);
                out.putInt(present ? Float.floatToRawIntBits(v) : 0);
                return present;
            }
            case BOOL: {
                boolean v = rs.getBoolean(i);
                boolean present = !rs.wasNull();
                int byteIndex = row >>> 3;
                if (byteIndex >= out.n) {
                    out.ensure(1, c);
                    out.a[out.n++] = 0;
                }
                if (present && v) {
                    out.a[byteIndex] |= (byte) (1 << (row & 7));
                }
                return present;
            }
            case DECIMAL:
                return readDecimal(c, rs.getBigDecimal(i), out);
            case DATE32: {
                LocalDate v = rs.getObject(i, LocalDate.class);
                out.ensure(4, c);
                if (v == null) {
                    out.putInt(0);
                    return false;
                }
                long day = v.toEpochDay();
                if (day < Integer.MIN_VALUE || day > Integer.MAX_VALUE) {
                    throw new BadValue(c, "date " + v + " is outside the range of date32", null);
                }
                out.putInt((int) day);
                return true;
            }
            case TIMESTAMP_MS: {
                LocalDateTime v = rs.getObject(i, LocalDateTime.class);
                out.ensure(8, c);
                if (v == null) {
                    out.putLong(0L);
                    return false;
                }
                out.putLong(millis(c, v.toEpochSecond(ZoneOffset.UTC), v.getNano(), v));
                return true;
            }
            case TIMESTAMP_MS_TZ: {
                OffsetDateTime v = rs.getObject(i, OffsetDateTime.class);
                out.ensure(8, c);
                if (v == null) {
                    out.putLong(0L);
                    return false;
                }
                out.putLong(millis(c, v.toEpochSecond(), v.getNano(), v));
                return true;
            }
            case BINARY: {
                byte[] v = rs.getBytes(i);
                Buf ends = offsets[c];
                ends.ensure(4, c);
                if (v == null) {
                    ends.putInt(out.n);
                    return false;
                }
                out.ensure(v.length, c);
                System.arraycopy(v, 0, out.a, out.n, v.length);
                out.n += v.length;
                ends.putInt(out.n);
                return true;
            }
            default: {
                String v = rs.getString(i);
                Buf ends = offsets[c];
                ends.ensure(4, c);
                if (v == null) {
                    ends.putInt(out.n);
                    return false;
                }
                utf8(c, v, out);
                ends.putInt(out.n);
                return true;
            }
        }
    }

    /** Seconds and nanoseconds -> milliseconds since the epoch, floored (nanos are never negative). */
    private static long millis(int c, long seconds, int nanos, Object value) {
        try {
            return Math.addExact(Math.multiplyExact(seconds, 1000L), nanos / 1_000_000);
        } catch (ArithmeticException e) {
            throw new BadValue(c, "timestamp " + value + " is outside the range of milliseconds since 1970", e);
        }
    }

    private boolean readDecimal(int c, BigDecimal v, Buf out) {
        int width = widths[c];
        out.ensure(width, c);
        if (v == null) {
            out.zeros(width);
            return false;
        }
        int scale = scales[c];
        BigDecimal scaled;
        try {
            scaled = v.setScale(scale, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new BadValue(c, "value " + v.toPlainString() + " has more than " + scale
                    + " digits after the decimal point", null);
        }
        BigInteger unscaled = scaled.unscaledValue();
        if (unscaled.signum() != 0 && scaled.precision() > precisions[c]) {
            throw new BadValue(c, "value " + v.toPlainString() + " needs more than " + precisions[c]
                    + " digits", null);
        }
        if (unscaled.bitLength() < 64) {
            long l = unscaled.longValue();
            byte sign = (byte) (l < 0 ? -1 : 0);
            byte[] b = out.a;
            int at = out.n;
            for (int k = 0; k < width; k++) {
                b[at + k] = k < 8 ? (byte) (l >>> (8 * k)) : sign;
            }
        } else {
            byte[] be = unscaled.toByteArray(); // big-endian two's complement, minimal length
            if (be.length > width) {
                throw new BadValue(c, "value " + v.toPlainString() + " does not fit " + width + " bytes", null);
            }
            byte sign = (byte) (unscaled.signum() < 0 ? -1 : 0);
            byte[] b = out.a;
            int at = out.n;
            for (int k = 0; k < width; k++) {
                b[at + k] = k < be.length ? be[be.length - 1 - k] : sign;
            }
        }
        out.n += width;
        return true;
    }

    /** Appends {@code s} as UTF-8; an unpaired surrogate is an error (Arrow strings must be valid UTF-8). */
    private static void utf8(int c, String s, Buf out) {
        int length = s.length();
        out.ensure(length, c);
        byte[] b = out.a;
        int at = out.n;
        int i = 0;
        for (; i < length; i++) { // ASCII, the common case, one byte per char
            char ch = s.charAt(i);
            if (ch >= 0x80) {
                break;
            }
            b[at++] = (byte) ch;
        }
        if (i < length) {
            out.n = at;
            out.ensure(3 * (length - i), c); // at most 3 bytes per remaining UTF-16 unit
            b = out.a;
            for (; i < length; i++) {
                char ch = s.charAt(i);
                if (ch < 0x80) {
                    b[at++] = (byte) ch;
                } else if (ch < 0x800) {
                    b[at++] = (byte) (0xC0 | (ch >> 6));
                    b[at++] = (byte) (0x80 | (ch & 0x3F));
                } else if (Character.isSurrogate(ch)) {
                    char low = i + 1 < length ? s.charAt(i + 1) : 0;
                    if (!Character.isHighSurrogate(ch) || !Character.isLowSurrogate(low)) {
                        throw new BadValue(c, "text with an unpaired UTF-16 surrogate (U+"
                                + Integer.toHexString(ch).toUpperCase() + ") at character " + i
                                + " is not valid Unicode", null);
                    }
                    int cp = Character.toCodePoint(ch, low);
                    i++;
                    b[at++] = (byte) (0xF0 | (cp >> 18));
                    b[at++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                    b[at++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                    b[at++] = (byte) (0x80 | (cp & 0x3F));
                } else {
                    b[at++] = (byte) (0xE0 | (ch >> 12));
                    b[at++] = (byte) (0x80 | ((ch >> 6) & 0x3F));
                    b[at++] = (byte) (0x80 | (ch & 0x3F));
                }
            }
        }
        out.n = at;
    }

    private static int padded(int n) {
        return (n + 15) & ~15;
    }

    /**
     * The current batch's buffers, every one starting at a multiple of 16 bytes in one array.
     * {@link #layout} says where each is.
     */
    public byte[] buffers() {
        long total = 0;
        for (int c = 0; c < count; c++) {
            total += (nulls[c] > 0 ? padded(validity[c].n) : 0) + padded(data[c].n)
                    + (offsets[c] != null ? padded(offsets[c].n) : 0);
        }
        if (total > MAX_BUFFER) {
            throw new BadValue(0, "a batch would exceed 2 GiB", null);
        }
        byte[] all = new byte[(int) total];
        int at = 0;
        for (int c = 0; c < count; c++) {
            if (nulls[c] > 0) {
                at = copy(validity[c], all, at);
            }
            at = copy(data[c], all, at);
            if (offsets[c] != null) {
                at = copy(offsets[c], all, at);
            }
        }
        return all;
    }

    private static int copy(Buf from, byte[] to, int at) {
        System.arraycopy(from.a, 0, to, at, from.n);
        return at + padded(from.n);
    }

    /**
     * Per column, {@link #LAYOUT_WIDTH} longs: null count, validity offset and length (length 0: no NULLs),
     * data offset and length, offsets offset and length (length 0: a fixed-width column). Offsets are into
     * {@link #buffers}.
     */
    public long[] layout() {
        long[] out = new long[count * LAYOUT_WIDTH];
        long at = 0;
        for (int c = 0; c < count; c++) {
            int k = c * LAYOUT_WIDTH;
            out[k] = nulls[c];
            if (nulls[c] > 0) {
                out[k + 1] = at;
                out[k + 2] = validity[c].n;
                at += padded(validity[c].n);
            }
            out[k + 3] = at;
            out[k + 4] = data[c].n;
            at += padded(data[c].n);
            if (offsets[c] != null) {
                out[k + 5] = at;
                out[k + 6] = offsets[c].n;
                at += padded(offsets[c].n);
            }
        }
        return out;
    }
}
