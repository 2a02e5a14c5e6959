using System.Globalization;

namespace Windhover.Flows.Expressions;

/// <summary>Parses tokens into template nodes and expressions (Pratt parser with Pebble's precedences).</summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly string _source;
    private readonly ExpressionEngine _engine;
    private int _pos;

    public Parser(List<Token> tokens, string source, ExpressionEngine engine)
    {
        _tokens = tokens;
        _source = source;
        _engine = engine;
    }

    private Token Peek => _tokens[_pos];
    private Token PeekAt(int offset) => _tokens[Math.Min(_pos + offset, _tokens.Count - 1)];
    private Token Next() => _tokens[_pos++];

    private ExpressionException Error(string message, Token at) =>
        new($"{message} ({_source}:{at.Line})", _source, at.Line, at.Column);

    private Token Expect(TokenType type, string? value, string what)
    {
        var t = Peek;
        if (t.Type != type || (value != null && t.Value != value))
            throw Error($"Unexpected token '{t}', expected {what}", t);
        return Next();
    }

    public static CompiledTemplate ParseTemplate(string source, ExpressionEngine engine)
    {
        var tokens = Lexer.Tokenize(source);
        var p = new Parser(tokens, source, engine);
        var body = p.ParseBody(null, out _);
        if (p.Peek.Type != TokenType.End) throw p.Error($"Unexpected token '{p.Peek}'", p.Peek);
        Expr? single = null;
        string? singleText = null;
        bool printOnly = false;
        var prints = body.Nodes.Where(n => n is not TextNode t || !string.IsNullOrWhiteSpace(t.Text)).ToList();
        if (prints.Count == 1 && prints[0] is PrintNode pn)
        {
            single = pn.Expr;
            printOnly = body.Nodes.Count == 1;
        }
        if (body.Nodes.Count == 1 && body.Nodes[0] is TextNode tn) singleText = tn.Text;
        if (body.Nodes.Count == 0) singleText = "";
        return new CompiledTemplate(source, body, single, singleText) { PrintOnly = printOnly, FastPath = CompiledTemplate.PathOf(single) };
    }

    public static Expr ParseBareExpression(string expression, ExpressionEngine engine)
    {
        var tokens = Lexer.TokenizeExpression(expression);
        var p = new Parser(tokens, expression, engine);
        var e = p.ParseExpression();
        if (p.Peek.Type != TokenType.End) throw p.Error($"Unexpected token '{p.Peek}'", p.Peek);
        return e;
    }

    /// <summary>Parses nodes until one of the stop tags ({% name %}) is seen; the stop tag name is consumed.</summary>
    private BlockNode ParseBody(string[]? stops, out string? stoppedAt)
    {
        var nodes = new List<Node>();
        var first = Peek;
        while (true)
        {
            var t = Peek;
            switch (t.Type)
            {
                case TokenType.End:
                    if (stops != null) throw Error($"Unexpected end of template. Pebble was looking for the following tags: {string.Join(", ", stops)}", t);
                    stoppedAt = null;
                    return new BlockNode(nodes, first.Line, first.Column);
                case TokenType.Text:
                    Next();
                    nodes.Add(new TextNode(t.Value, t.Line, t.Column));
                    break;
                case TokenType.PrintStart:
                    {
                        Next();
                        if (Peek.Type == TokenType.PrintEnd) throw Error("Empty expression", Peek);
                        var e = ParseExpression();
                        Expect(TokenType.PrintEnd, null, "'}}'");
                        nodes.Add(new PrintNode(e, t.Line, t.Column));
                        break;
                    }
                case TokenType.ExecStart:
                    {
                        Next();
                        var name = Expect(TokenType.Name, null, "a tag name");
                        if (stops != null && Array.IndexOf(stops, name.Value) >= 0)
                        {
                            stoppedAt = name.Value;
                            return new BlockNode(nodes, first.Line, first.Column);
                        }
                        nodes.Add(ParseTag(name, t));
                        break;
                    }
                default:
                    throw Error($"Unexpected token '{t}'", t);
            }
        }
    }

    private Node ParseTag(Token name, Token start)
    {
        switch (name.Value)
        {
            case "if":
                {
                    var branches = new List<(Expr, BlockNode)>();
                    var cond = ParseExpression();
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    BlockNode? elseBody = null;
                    while (true)
                    {
                        var body = ParseBody(["elseif", "elif", "else", "endif"], out var stop);
                        branches.Add((cond, body));
                        if (stop is "elseif" or "elif")
                        {
                            cond = ParseExpression();
                            Expect(TokenType.ExecEnd, null, "'%}'");
                            continue;
                        }
                        if (stop == "else")
                        {
                            Expect(TokenType.ExecEnd, null, "'%}'");
                            elseBody = ParseBody(["endif"], out _);
                        }
                        Expect(TokenType.ExecEnd, null, "'%}'");
                        break;
                    }
                    return new IfNode(branches, elseBody, start.Line, start.Column);
                }
            case "for":
                {
                    var v1 = Expect(TokenType.Name, null, "a loop variable").Value;
                    string? v2 = null;
                    if (Peek.IsPunct(","))
                    {
                        Next();
                        v2 = Expect(TokenType.Name, null, "a loop variable").Value;
                    }
                    Expect(TokenType.Name, "in", "'in'");
                    var src = ParseExpression();
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    var body = ParseBody(["else", "endfor"], out var stop);
                    BlockNode? elseBody = null;
                    if (stop == "else")
                    {
                        Expect(TokenType.ExecEnd, null, "'%}'");
                        elseBody = ParseBody(["endfor"], out _);
                    }
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    return new ForNode(v1, v2, src, body, elseBody, start.Line, start.Column);
                }
            case "set":
                {
                    var n = Expect(TokenType.Name, null, "a variable name").Value;
                    Expect(TokenType.Punct, "=", "'='");
                    var e = ParseExpression();
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    return new SetNode(n, e, start.Line, start.Column);
                }
            case "raw" or "verbatim":
                {
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    var endName = "end" + name.Value;
                    var text = Peek.Type == TokenType.Text ? Next().Value : "";
                    Expect(TokenType.ExecStart, null, $"{{% {endName} %}}");
                    Expect(TokenType.Name, endName, endName);
                    Expect(TokenType.ExecEnd, null, "'%}'");
                    return new TextNode(text, start.Line, start.Column);
                }
            default:
                throw Error($"Unexpected tag name \"{name.Value}\"", name);
        }
    }

    // ---------------- expressions ----------------

    private static int BinaryPrecedence(Token t)
    {
        if (t.Type == TokenType.Punct)
        {
            return t.Value switch
            {
                "||" => 10,
                "&&" => 15,
                "==" or "!=" or "<" or ">" or "<=" or ">=" => 30,
                "+" or "-" => 40,
                "*" or "/" or "%" => 60,
                "|" => 100,
                "~" => 110,
                ".." or "??" or "???" => 120,
                _ => -1,
            };
        }
        if (t.Type == TokenType.Name)
        {
            return t.Value switch
            {
                "or" => 10,
                "and" => 15,
                "is" or "contains" or "in" => 20,
                "equals" => 30,
                _ => -1,
            };
        }
        return -1;
    }

    public Expr ParseExpression() => ParseExpression(0);

    private Expr ParseExpression(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            var t = Peek;
            // "not in"
            if (t.IsName("not") && PeekAt(1).IsName("in") && 20 >= minPrecedence)
            {
                Next(); Next();
                var r = ParseExpression(21);
                left = new BinaryExpr(BinaryOp.NotIn, left, r, t.Line, t.Column);
                continue;
            }
            int prec = BinaryPrecedence(t);
            if (prec < 0 || prec < minPrecedence) break;
            Next();
            switch (t.Value)
            {
                case "|":
                    left = ParseFilter(left, t);
                    continue;
                case "is":
                    {
                        bool negate = false;
                        if (Peek.IsName("not")) { Next(); negate = true; }
                        var test = Peek;
                        if (test.Type != TokenType.Name) throw Error($"Unexpected token '{test}', expected a test name", test);
                        Next();
                        if (!KnownTests.Contains(test.Value)) throw Error($"Wrong test [{test.Value}]", test);
                        if (Peek.IsPunct("(")) { Next(); Expect(TokenType.Punct, ")", "')'"); }
                        left = new TestExpr(left, test.Value, negate, t.Line, t.Column);
                        continue;
                    }
            }
            var right = ParseExpression(prec + 1);
            left = t.Value switch
            {
                "or" or "||" => new AndOrExpr(false, left, right, t.Line, t.Column),
                "and" or "&&" => new AndOrExpr(true, left, right, t.Line, t.Column),
                "??" => new CoalesceExpr(left, right, true, t.Line, t.Column),
                "???" => new CoalesceExpr(left, right, false, t.Line, t.Column),
                _ => new BinaryExpr(t.Value switch
                {
                    "+" => BinaryOp.Add,
                    "-" => BinaryOp.Sub,
                    "*" => BinaryOp.Mul,
                    "/" => BinaryOp.Div,
                    "%" => BinaryOp.Mod,
                    "~" => BinaryOp.Concat,
                    "==" or "equals" => BinaryOp.Eq,
                    "!=" => BinaryOp.Ne,
                    "<" => BinaryOp.Lt,
                    ">" => BinaryOp.Gt,
                    "<=" => BinaryOp.Le,
                    ">=" => BinaryOp.Ge,
                    "contains" => BinaryOp.Contains,
                    "in" => BinaryOp.In,
                    ".." => BinaryOp.Range,
                    _ => throw Error($"Unknown operator '{t.Value}'", t),
                }, left, right, t.Line, t.Column),
            };
        }
        if (minPrecedence == 0 && Peek.IsPunct("?"))
        {
            var q = Next();
            var then = ParseExpression(0);
            Expect(TokenType.Punct, ":", "':' in ternary expression");
            var otherwise = ParseExpression(0);
            left = new TernaryExpr(left, then, otherwise, q.Line, q.Column);
        }
        return left;
    }

    private static readonly HashSet<string> KnownTests = ["defined", "null", "none", "empty", "even", "odd", "iterable", "map", "json"];

    private Expr ParseUnary()
    {
        var t = Peek;
        if (t.IsName("not") || t.IsPunct("!"))
        {
            Next();
            var operand = ParseExpression(500);
            return new NotExpr(operand, t.Line, t.Column);
        }
        if (t.IsPunct("-") || t.IsPunct("+"))
        {
            Next();
            var operand = ParseExpression(500);
            if (operand is LiteralExpr { Value: long l } && t.Value == "-") return new LiteralExpr(-l, t.Line, t.Column);
            if (operand is LiteralExpr { Value: double d } && t.Value == "-") return new LiteralExpr(-d, t.Line, t.Column);
            return new NegateExpr(operand, t.Value == "-", t.Line, t.Column);
        }
        return ParsePostfix(ParsePrimary());
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Type)
        {
            case TokenType.Number:
                if (t.Value.Contains('.') || t.Value.Contains('e') || t.Value.Contains('E'))
                    return new LiteralExpr(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line, t.Column);
                if (long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                    return new LiteralExpr(l, t.Line, t.Column);
                return new LiteralExpr(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line, t.Column);
            case TokenType.String:
                if (t.Parts == null) return new LiteralExpr(t.Value, t.Line, t.Column);
                {
                    var parts = new List<Expr>();
                    foreach (var part in t.Parts)
                    {
                        if (part is string s) parts.Add(new LiteralExpr(s, t.Line, t.Column));
                        else
                        {
                            var sub = new Parser((List<Token>)part, _source, _engine);
                            var e = sub.ParseExpression();
                            if (sub.Peek.Type != TokenType.End) throw sub.Error($"Unexpected token '{sub.Peek}' in string interpolation", sub.Peek);
                            parts.Add(e);
                        }
                    }
                    return new InterpolationExpr(parts, t.Line, t.Column);
                }
            case TokenType.Name:
                switch (t.Value)
                {
                    case "true" or "TRUE" or "True": return new LiteralExpr(true, t.Line, t.Column);
                    case "false" or "FALSE" or "False": return new LiteralExpr(false, t.Line, t.Column);
                    case "null" or "none" or "NULL" or "NONE": return new LiteralExpr(null, t.Line, t.Column);
                }
                if (Peek.IsPunct("(")) return ParseFunctionCall(t);
                return new VarExpr(t.Value, t.Line, t.Column);
            case TokenType.Punct:
                switch (t.Value)
                {
                    case "(":
                        {
                            var e = ParseExpression();
                            Expect(TokenType.Punct, ")", "')'");
                            return e;
                        }
                    case "[":
                        {
                            var items = new List<Expr>();
                            while (!Peek.IsPunct("]"))
                            {
                                items.Add(ParseExpression());
                                if (!Peek.IsPunct(",")) break;
                                Next();
                            }
                            Expect(TokenType.Punct, "]", "']'");
                            return new ListExpr(items, t.Line, t.Column);
                        }
                    case "{":
                        {
                            var entries = new List<(Expr, Expr)>();
                            while (!Peek.IsPunct("}"))
                            {
                                var key = ParseExpression();
                                Expect(TokenType.Punct, ":", "':' in map literal");
                                var value = ParseExpression();
                                entries.Add((key, value));
                                if (!Peek.IsPunct(",")) break;
                                Next();
                            }
                            Expect(TokenType.Punct, "}", "'}'");
                            return new MapExpr(entries, t.Line, t.Column);
                        }
                }
                break;
        }
        throw Error($"Unexpected token '{t}'", t);
    }

    private Expr ParsePostfix(Expr e)
    {
        while (true)
        {
            var t = Peek;
            if (t.IsPunct("."))
            {
                Next();
                var n = Next();
                if (n.Type == TokenType.Name || n.Type == TokenType.Number)
                {
                    if (Peek.IsPunct("(")) throw Error($"Method calls are not supported: '{n.Value}(...)'", n);
                    e = new AttrExpr(e, n.Value, null, n.Line, n.Column);
                    continue;
                }
                throw Error($"Unexpected token '{n}' after '.'", n);
            }
            if (t.IsPunct("["))
            {
                Next();
                var idx = ParseExpression();
                Expect(TokenType.Punct, "]", "']'");
                e = idx is LiteralExpr { Value: string s }
                    ? new AttrExpr(e, s, null, t.Line, t.Column)
                    : new AttrExpr(e, null, idx, t.Line, t.Column);
                continue;
            }
            return e;
        }
    }

    private List<(string? Name, Expr Value, Token At)> ParseArguments()
    {
        var args = new List<(string?, Expr, Token)>();
        Expect(TokenType.Punct, "(", "'('");
        while (!Peek.IsPunct(")"))
        {
            var at = Peek;
            string? name = null;
            if (at.Type == TokenType.Name && PeekAt(1).IsPunct("="))
            {
                name = at.Value;
                Next(); Next();
            }
            args.Add((name, ParseExpression(), at));
            if (!Peek.IsPunct(",")) break;
            Next();
        }
        Expect(TokenType.Punct, ")", "')'");
        return args;
    }

    private Expr?[] Bind(CallableDefinition def, List<(string? Name, Expr Value, Token At)> args, string kind)
    {
        var slots = new Expr?[def.Parameters.Count];
        int positional = 0;
        foreach (var (name, value, at) in args)
        {
            int index;
            if (name == null)
            {
                index = positional++;
                if (index >= slots.Length) throw Error($"The '{def.Name}' {kind} takes at most {slots.Length} argument(s)", at);
            }
            else
            {
                index = -1;
                for (int i = 0; i < def.Parameters.Count; i++) if (def.Parameters[i] == name) { index = i; break; }
                if (index < 0) throw Error($"The argument '{name}' is not supported by the '{def.Name}' {kind}; its arguments are: {string.Join(", ", def.Parameters)}", at);
            }
            slots[index] = value;
        }
        return slots;
    }

    private Expr ParseFunctionCall(Token name)
    {
        var args = ParseArguments();
        if (!_engine.TryGetFunction(name.Value, out var def))
            throw Error($"Function or Macro [{name.Value}] does not exist.", name);
        return new CallExpr(def, null, Bind(def, args, "function"), false, name.Line, name.Column);
    }

    private Expr ParseFilter(Expr input, Token bar)
    {
        var name = Peek;
        if (name.Type != TokenType.Name) throw Error($"Unexpected token '{name}', expected a filter name", name);
        Next();
        if (!_engine.TryGetFilter(name.Value, out var def))
            throw Error($"Filter [{name.Value}] does not exist.", name);
        var args = Peek.IsPunct("(") ? ParseArguments() : [];
        return new CallExpr(def, input, Bind(def, args, "filter"), true, name.Line, name.Column);
    }
}
