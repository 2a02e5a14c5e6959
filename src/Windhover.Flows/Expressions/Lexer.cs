using System.Text;

namespace Windhover.Flows.Expressions;

internal enum TokenType
{
    Text, PrintStart, PrintEnd, ExecStart, ExecEnd, Name, Number, String, Punct, End,
}

internal sealed class Token(TokenType type, string value, int line, int column)
{
    public TokenType Type { get; } = type;
    public string Value { get; set; } = value;
    public int Line { get; } = line;
    public int Column { get; } = column;
    /// <summary>For interpolated double-quoted strings: parts are string or List&lt;Token&gt;.</summary>
    public List<object>? Parts { get; set; }
    public bool IsPunct(string p) => Type == TokenType.Punct && Value == p;
    public bool IsName(string n) => Type == TokenType.Name && Value == n;
    public override string ToString() => Type == TokenType.End ? "end of template" : Value;
}

/// <summary>Splits a template into text and delimiter/expression tokens (Pebble delimiters and whitespace control).</summary>
internal sealed class Lexer
{
    private readonly string _src;
    private int _pos;
    private int _line = 1;
    private int _lineStart;
    private readonly List<Token> _tokens = [];
    private bool _trimNextText;

    private static readonly string[] Operators =
    [
        "???", "??", "...", "..", "==", "!=", "<=", ">=", "&&", "||",
        "<", ">", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "?", "(", ")", "[", "]", "{", "}", "=", "!",
    ];

    public Lexer(string src) { _src = src; }

    private int Col => _pos - _lineStart + 1;

    private ExpressionException Error(string message) =>
        new($"{message} ({_src}:{_line})", _src, _line, Col);

    public static List<Token> Tokenize(string src) => new Lexer(src).Run();

    /// <summary>Tokenizes a bare expression (no delimiters).</summary>
    public static List<Token> TokenizeExpression(string src, int line = 1, int col = 1)
    {
        var lx = new Lexer(src) { _line = line, _lineStart = 1 - col };
        lx.LexExpression(null);
        lx._tokens.Add(new Token(TokenType.End, "", lx._line, lx.Col));
        return lx._tokens;
    }

    private List<Token> Run()
    {
        var text = new StringBuilder();
        int textLine = 1, textCol = 1;
        while (_pos < _src.Length)
        {
            int next = FindOpen(_pos);
            if (next < 0)
            {
                AddText(_src[_pos..], textLine, textCol);
                Advance(_src.Length - _pos);
                break;
            }
            if (next > _pos)
            {
                int l = _line, c = Col;
                AddText(_src[_pos..next], l, c);
                Advance(next - _pos);
            }
            _trimNextText = false;
            char kind = _src[_pos + 1];
            bool trimBefore = _pos + 2 < _src.Length && _src[_pos + 2] == '-';
            if (trimBefore) TrimLastText();
            int startLine = _line, startCol = Col;
            Advance(trimBefore ? 3 : 2);
            if (kind == '#')
            {
                int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
                if (end < 0) throw new ExpressionException($"Unclosed comment ({_src}:{startLine})", _src, startLine, startCol);
                bool trimAfter = end > _pos && _src[end - 1] == '-';
                Advance(end + 2 - _pos);
                _trimNextText = trimAfter;
                continue;
            }
            if (kind == '{')
            {
                _tokens.Add(new Token(TokenType.PrintStart, "{{", startLine, startCol));
                LexExpression("}}");
            }
            else
            {
                _tokens.Add(new Token(TokenType.ExecStart, "{%", startLine, startCol));
                int before = _tokens.Count;
                LexExpression("%}");
                // raw / verbatim: {% raw %} ... {% endraw %}
                if (_tokens.Count == before + 2 && _tokens[before].Type == TokenType.Name && _tokens[before].Value is "raw" or "verbatim")
                {
                    var endName = "end" + _tokens[before].Value;
                    LexRaw(endName);
                }
            }
            textLine = _line; textCol = Col;
        }
        _tokens.Add(new Token(TokenType.End, "", _line, Col));
        return _tokens;
    }

    private void LexRaw(string endName)
    {
        int search = _pos;
        while (true)
        {
            int open = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (open < 0) throw Error($"Unclosed '{endName[3..]}' tag: expected {{% {endName} %}}");
            int p = open + 2;
            bool trimBefore = p < _src.Length && _src[p] == '-';
            if (trimBefore) p++;
            while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
            if (string.CompareOrdinal(_src, p, endName, 0, endName.Length) == 0)
            {
                int q = p + endName.Length;
                while (q < _src.Length && char.IsWhiteSpace(_src[q])) q++;
                bool trimAfter = q < _src.Length && _src[q] == '-';
                if (trimAfter) q++;
                if (q + 1 < _src.Length && _src[q] == '%' && _src[q + 1] == '}')
                {
                    var content = _src[_pos..open];
                    if (_trimNextText) { content = content.TrimStart(); _trimNextText = false; }
                    if (trimBefore) content = content.TrimEnd();
                    int l = _line, c = Col;
                    if (content.Length > 0) _tokens.Add(new Token(TokenType.Text, content, l, c));
                    // emit {% endraw %}
                    Advance(open - _pos);
                    _tokens.Add(new Token(TokenType.ExecStart, "{%", _line, Col));
                    _tokens.Add(new Token(TokenType.Name, endName, _line, Col));
                    _tokens.Add(new Token(TokenType.ExecEnd, "%}", _line, Col));
                    Advance(q + 2 - _pos);
                    _trimNextText = trimAfter;
                    return;
                }
            }
            search = open + 2;
        }
    }

    private void AddText(string text, int line, int col)
    {
        if (_trimNextText) { text = text.TrimStart(); _trimNextText = false; }
        if (text.Length > 0) _tokens.Add(new Token(TokenType.Text, text, line, col));
    }

    private void TrimLastText()
    {
        if (_tokens.Count > 0 && _tokens[^1].Type == TokenType.Text)
        {
            var t = _tokens[^1];
            t.Value = t.Value.TrimEnd();
            if (t.Value.Length == 0) _tokens.RemoveAt(_tokens.Count - 1);
        }
    }

    private int FindOpen(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length) return -1;
            char n = _src[i + 1];
            if (n is '{' or '%' or '#') return i;
            i++;
        }
    }

    private void Advance(int count)
    {
        for (int k = 0; k < count; k++)
        {
            if (_src[_pos] == '\n') { _line++; _lineStart = _pos + 1; }
            _pos++;
        }
    }

    /// <summary>Lexes expression tokens until the close delimiter (outside brackets), or end of input when close is null.</summary>
    private void LexExpression(string? close)
    {
        var brackets = new Stack<char>();
        int startLine = _line;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) Advance(1);
            if (_pos >= _src.Length)
            {
                if (close == null) return;
                throw new ExpressionException($"Unexpected end of template: missing '{close}' ({_src}:{startLine})", _src, _line, Col);
            }
            if (close != null && brackets.Count == 0)
            {
                if (_src[_pos] == '-' && string.CompareOrdinal(_src, _pos + 1, close, 0, 2) == 0)
                {
                    _tokens.Add(new Token(close == "}}" ? TokenType.PrintEnd : TokenType.ExecEnd, close, _line, Col));
                    Advance(3);
                    _trimNextText = true;
                    return;
                }
                if (string.CompareOrdinal(_src, _pos, close, 0, 2) == 0)
                {
                    _tokens.Add(new Token(close == "}}" ? TokenType.PrintEnd : TokenType.ExecEnd, close, _line, Col));
                    Advance(2);
                    return;
                }
            }
            char c = _src[_pos];
            int line = _line, col = Col;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int s = _pos;
                while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) Advance(1);
                _tokens.Add(new Token(TokenType.Name, _src[s.._pos], line, col));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int s = _pos;
                while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) Advance(1);
                // a decimal point followed by a digit (not the '..' range operator)
                bool afterDot = _tokens.Count > 0 && _tokens[^1].IsPunct(".");
                if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
                {
                    Advance(1);
                    while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) Advance(1);
                }
                if (!afterDot && _pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E') && _pos + 1 < _src.Length &&
                    (char.IsAsciiDigit(_src[_pos + 1]) || ((_src[_pos + 1] == '-' || _src[_pos + 1] == '+') && _pos + 2 < _src.Length && char.IsAsciiDigit(_src[_pos + 2]))))
                {
                    Advance(2);
                    while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) Advance(1);
                }
                _tokens.Add(new Token(TokenType.Number, _src[s.._pos], line, col));
                continue;
            }
            if (c is '"' or '\'')
            {
                _tokens.Add(LexString(c, line, col));
                continue;
            }
            string? op = null;
            foreach (var o in Operators)
            {
                if (string.CompareOrdinal(_src, _pos, o, 0, o.Length) == 0) { op = o; break; }
            }
            if (op == null) throw Error($"Unexpected character '{c}'");
            if (op is "(" or "[" or "{") brackets.Push(op[0]);
            else if (op is ")" or "]" or "}")
            {
                if (brackets.Count == 0) throw Error($"Unexpected '{op}'");
                var open = brackets.Pop();
                var expected = open == '(' ? ')' : open == '[' ? ']' : '}';
                if (expected != op[0]) throw Error($"Unexpected '{op}', expected '{expected}'");
            }
            _tokens.Add(new Token(TokenType.Punct, op, line, col));
            Advance(op.Length);
        }
    }

    private Token LexString(char quote, int line, int col)
    {
        Advance(1);
        var sb = new StringBuilder();
        List<object>? parts = null;
        while (true)
        {
            if (_pos >= _src.Length) throw new ExpressionException($"Unclosed string literal ({_src}:{line})", _src, line, col);
            char c = _src[_pos];
            if (c == '\\' && _pos + 1 < _src.Length && (_src[_pos + 1] == quote || _src[_pos + 1] == '\\'))
            {
                sb.Append(_src[_pos + 1]);
                Advance(2);
                continue;
            }
            if (c == quote) { Advance(1); break; }
            if (quote == '"' && c == '#' && _pos + 1 < _src.Length && _src[_pos + 1] == '{')
            {
                parts ??= [];
                if (sb.Length > 0) { parts.Add(sb.ToString()); sb.Clear(); }
                Advance(2);
                int exprLine = _line, exprCol = Col;
                int depth = 0, s = _pos;
                while (true)
                {
                    if (_pos >= _src.Length) throw new ExpressionException($"Unclosed string interpolation ({_src}:{line})", _src, line, col);
                    char d = _src[_pos];
                    if (d is '\'' or '"')
                    {
                        char q = d; Advance(1);
                        while (_pos < _src.Length && _src[_pos] != q) Advance(_src[_pos] == '\\' ? Math.Min(2, _src.Length - _pos) : 1);
                        Advance(Math.Min(1, _src.Length - _pos));
                        continue;
                    }
                    if (d == '{') depth++;
                    else if (d == '}')
                    {
                        if (depth == 0) break;
                        depth--;
                    }
                    Advance(1);
                }
                var inner = _src[s.._pos];
                Advance(1);
                parts.Add(TokenizeExpression(inner, exprLine, exprCol));
                continue;
            }
            sb.Append(c);
            Advance(1);
        }
        if (parts != null && sb.Length > 0) parts.Add(sb.ToString());
        return new Token(TokenType.String, parts == null ? sb.ToString() : "", line, col) { Parts = parts };
    }
}
