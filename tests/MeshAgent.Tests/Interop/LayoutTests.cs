using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;
using Xunit;

namespace MeshAgent.Tests.Interop;

/// <summary>
/// STYLE rule 6: every struct and constant in <c>Interop.Libc</c> is checked against the C compiler.
/// native/layout.c prints sizes, offsets, constant values and macro results from the system headers; this
/// test compiles it with gcc, runs it, and compares every line with the C# definition of the same name.
/// It also fails when a C# struct, field or constant has no line in layout.c (so new ones cannot slip in
/// unchecked), and when gcc is missing (it must not silently skip).
/// </summary>
public sealed class LayoutTests
{
    /// <summary>
    /// Constants newer than the uapi headers of Debian 12 (linux-libc-dev 6.1), which CI uses. When layout.c
    /// prints "missing NAME", the C# value must equal the value cited here from the kernel source instead.
    /// </summary>
    private static readonly Dictionary<string, long> NewerThanHeaders = new()
    {
        // Linux v6.2 include/uapi/linux/if_tun.h (commit "tun: support UDP segmentation offload").
        ["TUN_F_USO4"] = 0x20,
        ["TUN_F_USO6"] = 0x40,

        // Linux v6.2 include/uapi/linux/virtio_net.h (commit "virtio_net: support UDP segmentation offload").
        ["VIRTIO_NET_HDR_GSO_UDP_L4"] = 5,
    };

    private static readonly Type LibcType = typeof(Libc);

    [Fact]
    public void Structs_constants_and_macros_match_gcc()
    {
        string[] lines = CompileAndRunLayoutProgram();
        var errors = new List<string>();
        var checkedStructs = new HashSet<Type>();
        var checkedFields = new HashSet<FieldInfo>();
        var checkedConstants = new HashSet<string>();

        foreach (string line in lines)
        {
            string[] p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (p[0])
            {
                case "size":
                    CheckSize(p[1], long.Parse(p[2], CultureInfo.InvariantCulture), errors, checkedStructs);
                    break;
                case "field":
                    CheckField(p[1], p[2], long.Parse(p[3], CultureInfo.InvariantCulture), long.Parse(p[4], CultureInfo.InvariantCulture), errors, checkedFields);
                    break;
                case "const":
                    CheckConstant(p[1], long.Parse(p[2], CultureInfo.InvariantCulture), errors, checkedConstants);
                    break;
                case "missing":
                    if (NewerThanHeaders.TryGetValue(p[1], out long cited))
                    {
                        CheckConstant(p[1], cited, errors, checkedConstants);
                    }
                    else
                    {
                        errors.Add($"{p[1]}: missing from the C headers and has no cited value in LayoutTests.NewerThanHeaders");
                    }

                    break;
                case "macro":
                    CheckMacro(p[1], int.Parse(p[2], CultureInfo.InvariantCulture), long.Parse(p[3], CultureInfo.InvariantCulture), errors);
                    break;
                default:
                    errors.Add($"unrecognized layout line: {line}");
                    break;
            }
        }

        // Completeness: everything C# passes to the kernel was compared above.
        foreach (FieldInfo constant in Constants())
        {
            if (!checkedConstants.Contains(constant.Name))
            {
                errors.Add($"constant {constant.Name} is not checked: add CONST({constant.Name}) to layout.c");
            }
        }

        foreach (Type type in Structs())
        {
            foreach (FieldInfo field in InstanceFields(type))
            {
                if (!checkedFields.Contains(field))
                {
                    errors.Add($"field {type.Name}.{field.Name} is not checked: add FIELD(...) to layout.c");
                }
            }

            bool reachedAsField = checkedFields.Any(f => f.FieldType == type);
            if (!checkedStructs.Contains(type) && !reachedAsField)
            {
                errors.Add($"struct {type.Name} is not checked: add SIZE({type.Name}) to layout.c");
            }
        }

        Assert.True(errors.Count == 0, "C# interop definitions differ from gcc's:\n" + string.Join('\n', errors));
        Assert.True(checkedStructs.Count >= 15 && checkedConstants.Count >= 100, "layout.c printed less than expected");
    }

    private static string[] CompileAndRunLayoutProgram()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Interop", "native", "layout.c");
        Assert.True(File.Exists(source), $"{source} is missing from the test output (Content item in MeshAgent.Tests.csproj)");
        string directory = Directory.CreateTempSubdirectory("meshagent-layout-").FullName;
        try
        {
            string binary = Path.Combine(directory, "layout");
            (int compileExit, string compileOutput) = Run("gcc", ["-std=gnu11", "-Wall", "-Werror", "-o", binary, source]);
            Assert.True(compileExit == 0, $"gcc failed to compile {source}:\n{compileOutput}");
            (int runExit, string output) = Run(binary, []);
            Assert.True(runExit == 0, $"{binary} exited with {runExit}:\n{output}");
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e) when (program == "gcc")
        {
            Assert.Fail($"gcc is not installed ({e.Message}): the struct layout test needs it — install gcc and libc6-dev (apt-get install gcc libc6-dev)");
            throw;
        }

        using (process)
        {
            Task<string> error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }
    }

    private static IEnumerable<Type> Structs() =>
        LibcType.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)
            .Where(t => t.IsValueType && !t.IsEnum && t.GetCustomAttribute<CompilerGeneratedAttribute>() is null);

    private static IEnumerable<FieldInfo> Constants() =>
        LibcType.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name != nameof(Libc.LibraryName));

    private static IEnumerable<FieldInfo> InstanceFields(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);

    private static Type? StructNamed(string name) => Structs().SingleOrDefault(t => t.Name == name);

    private static void CheckSize(string name, long expected, List<string> errors, HashSet<Type> checkedStructs)
    {
        Type? type = StructNamed(name);
        if (type is null)
        {
            errors.Add($"struct {name}: no C# struct of that name in Interop.Libc");
            return;
        }

        checkedStructs.Add(type);
        int marshalSize = Marshal.SizeOf(type);
        int managedSize = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        if (marshalSize != expected || managedSize != expected)
        {
            errors.Add($"sizeof(struct {name}): gcc {expected}, C# Marshal.SizeOf {marshalSize}, sizeof {managedSize}");
        }
    }

    private static void CheckField(string structName, string path, long expectedOffset, long expectedSize, List<string> errors, HashSet<FieldInfo> checkedFields)
    {
        Type? type = StructNamed(structName);
        if (type is null)
        {
            errors.Add($"field {structName}.{path}: no C# struct {structName}");
            return;
        }

        long offset = 0;
        FieldInfo? field = null;
        foreach (string member in path.Split('.'))
        {
            if (field is not null)
            {
                type = field.FieldType;
            }

            field = InstanceFields(type).SingleOrDefault(f => f.Name == member);
            if (field is null)
            {
                errors.Add($"field {structName}.{path}: C# {type.Name} has no field {member}");
                return;
            }

            offset += Marshal.OffsetOf(type, member);
            checkedFields.Add(field);
        }

        long size = FieldSize(field!);
        if (offset != expectedOffset || size != expectedSize)
        {
            errors.Add($"{structName}.{path}: gcc offset {expectedOffset} size {expectedSize}, C# offset {offset} size {size}");
        }
    }

    private static long FieldSize(FieldInfo field)
    {
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer)
        {
            return Marshal.SizeOf(buffer.ElementType) * buffer.Length;
        }

        return field.FieldType.IsPointer ? IntPtr.Size : Marshal.SizeOf(field.FieldType);
    }

    private static void CheckConstant(string name, long expected, List<string> errors, HashSet<string> checkedConstants)
    {
        FieldInfo? constant = Constants().SingleOrDefault(f => f.Name == name);
        if (constant is null)
        {
            errors.Add($"constant {name}: no C# constant of that name in Interop.Libc");
            return;
        }

        checkedConstants.Add(name);
        long actual = Convert.ToInt64(constant.GetRawConstantValue(), CultureInfo.InvariantCulture);
        if (actual != expected)
        {
            errors.Add($"{name}: gcc {expected} (0x{expected:x}), C# {actual} (0x{actual:x})");
        }
    }

    private static void CheckMacro(string name, int argument, long expected, List<string> errors)
    {
        MethodInfo? method = LibcType.GetMethod(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(int)]);
        if (method is null)
        {
            errors.Add($"macro {name}: no C# method {name}(int) in Interop.Libc");
            return;
        }

        long actual = Convert.ToInt64(method.Invoke(null, [argument]), CultureInfo.InvariantCulture);
        if (actual != expected)
        {
            errors.Add($"{name}({argument}): gcc {expected}, C# {actual}");
        }
    }
}
