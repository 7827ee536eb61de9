using System.Reflection;
using System.Reflection.Emit;
using Xunit.Abstractions;

namespace ModelLibrary.Tests.Foundation;

/// <summary>
/// Core's capability folders (ModelLibrary.Downloads, .Validation, .Library, ...) depend on each other in one
/// direction only. Read from the compiled assembly, method bodies included, so a fully qualified call counts too.
/// The root namespace (ModelInfo, errors, the file-name vocabulary) is shared by all and left out.
/// </summary>
public class NamespaceLayeringTests
{
    readonly ITestOutputHelper output;

    public NamespaceLayeringTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void Core_namespaces_have_no_cycles()
    {
        var graph = DependencyGraph(typeof(ModelLibraryException).Assembly);
        foreach (var (from, to) in graph.OrderBy(g => g.Key))
        {
            output.WriteLine($"{from} -> {string.Join(", ", to.Order())}");
        }

        var cycles = graph.SelectMany(g => g.Value.Where(to => Reaches(graph, to, g.Key)).Select(to => $"{g.Key} <-> {to}")).ToList();
        Assert.True(cycles.Count == 0, "Namespace cycles: " + string.Join("; ", cycles));
        Assert.Contains("Validation", graph["Library"]);   // the check sees real dependencies
    }

    [Theory]
    [InlineData("Downloads", "Validation")]
    [InlineData("Validation", "Library")]
    public void Named_layers_do_not_reach_back(string lower, string upper) =>
        Assert.False(Reaches(DependencyGraph(typeof(ModelLibraryException).Assembly), lower, upper), $"{lower} reaches {upper}");

    static bool Reaches(Dictionary<string, HashSet<string>> graph, string from, string target)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>(new[] { from });
        while (stack.TryPop(out var node))
        {
            if (node == target)
            {
                return true;
            }

            if (seen.Add(node) && graph.TryGetValue(node, out var next))
            {
                foreach (var n in next)
                {
                    stack.Push(n);
                }
            }
        }

        return false;
    }

    /// <summary>Capability (first segment under ModelLibrary) to the capabilities its types use.</summary>
    static Dictionary<string, HashSet<string>> DependencyGraph(Assembly assembly)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (Capability(type) is not { } from)
            {
                continue;
            }

            var uses = graph.TryGetValue(from, out var set) ? set : graph[from] = new HashSet<string>(StringComparer.Ordinal);
            foreach (var used in UsedTypes(type))
            {
                if (Capability(used) is { } to && to != from)
                {
                    uses.Add(to);
                }
            }
        }

        return graph;
    }

    static string? Capability(Type type)
    {
        while (type.IsNested)
        {
            type = type.DeclaringType!;
        }

        var ns = type.Namespace ?? "";
        if (!ns.StartsWith("ModelLibrary.", StringComparison.Ordinal))
        {
            return null;
        }

        return ns["ModelLibrary.".Length..].Split('.')[0];
    }

    const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null)
            {
                return;
            }

            if (t.HasElementType)
            {
                Add(t.GetElementType());
                return;
            }

            found.Add(t);
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                foreach (var argument in t.GetGenericArguments())
                {
                    Add(argument);
                }
            }
        }

        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (method is MethodInfo m) Add(m.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            foreach (var t in TypesInBody(method)) Add(t);
        }

        return found;
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The declaring types of every method, field and type an IL body names.</summary>
    static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, i);
                    Type? resolved = null;
                    try
                    {
                        var member = method.Module.ResolveMember(token, method.DeclaringType?.GetGenericArguments(),
                            method.IsGenericMethod ? method.GetGenericArguments() : null);
                        resolved = member as Type ?? member?.DeclaringType;
                    }
                    catch (ArgumentException)
                    {
                        // A token in a generic context this resolver cannot bind; its type is named elsewhere too.
                    }

                    if (resolved is not null)
                    {
                        yield return resolved;
                    }

                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }
}
