using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Bhyve.Aot.Tests.Architecture;

/// <summary>One use of a type by another, as the compiled assembly records it.</summary>
/// <param name="FromNamespace">the namespace of the using type (a nested type counts as its outermost type's).</param>
/// <param name="ToAssembly">the assembly that defines the used type.</param>
/// <param name="Via">where the use sits: "base type", "field X", "IL of M", ...</param>
internal sealed record TypeUse(string FromNamespace, string FromType, string ToAssembly, string ToNamespace, string ToType, string Via)
{
    public override string ToString() => $"{FromNamespace}.{FromType} -> {ToNamespace}.{ToType} ({ToAssembly}; {Via})";
}

/// <summary>
/// Every type an assembly's types use: base types, interfaces, generic constraints, attributes, the signatures of
/// fields, methods, properties, events and locals, and every token an IL instruction carries (methods, fields, types,
/// member references and their signatures, generic instantiations). Read with System.Reflection.Metadata, without
/// loading the assembly. Constants are not seen: the compiler copies their values into the IL.
/// </summary>
internal static class MetadataReferences
{
    public static IReadOnlyList<TypeUse> Read(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var walker = new Walker(pe);
        walker.Run();
        return walker.Uses;
    }

    /// <summary>The names of the assemblies this one references (its AssemblyRef table).</summary>
    public static IReadOnlyList<string> AssemblyReferences(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        return [.. md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name))];
    }

    private sealed class Walker(PEReader pe) : ISignatureTypeProvider<int, object?>
    {
        private static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => (ushort)o.Value, o => o.OperandType);

        private readonly MetadataReader _md = pe.GetMetadataReader();
        private readonly HashSet<(string, string, string, string, string)> _seen = [];
        private string _fromNs = "", _fromType = "", _via = "";

        public List<TypeUse> Uses { get; } = [];

        private string ThisAssembly => _md.GetString(_md.GetAssemblyDefinition().Name);

        public void Run()
        {
            foreach (var th in _md.TypeDefinitions)
            {
                var t = _md.GetTypeDefinition(th);
                (_fromNs, _fromType) = Outermost(th);
                Use("base type", t.BaseType);
                foreach (var ih in t.GetInterfaceImplementations()) Use("interface", _md.GetInterfaceImplementation(ih).Interface);
                Constraints(t.GetGenericParameters());
                Attributes("attribute", t.GetCustomAttributes());
                foreach (var fh in t.GetFields())
                {
                    var f = _md.GetFieldDefinition(fh);
                    _via = $"field {_md.GetString(f.Name)}";
                    f.DecodeSignature(this, null);
                    Attributes(_via, f.GetCustomAttributes());
                }
                foreach (var ph in t.GetProperties())
                {
                    var p = _md.GetPropertyDefinition(ph);
                    _via = $"property {_md.GetString(p.Name)}";
                    p.DecodeSignature(this, null);
                    Attributes(_via, p.GetCustomAttributes());
                }
                foreach (var eh in t.GetEvents())
                {
                    var e = _md.GetEventDefinition(eh);
                    Use($"event {_md.GetString(e.Name)}", e.Type);
                }
                foreach (var mh in t.GetMethods()) Method(mh);
                foreach (var ih in t.GetMethodImplementations())
                {
                    var impl = _md.GetMethodImplementation(ih);
                    Use("method implementation", impl.MethodDeclaration);
                }
            }
        }

        private void Method(MethodDefinitionHandle mh)
        {
            var m = _md.GetMethodDefinition(mh);
            string name = _md.GetString(m.Name);
            _via = $"signature of {name}";
            m.DecodeSignature(this, null);
            Constraints(m.GetGenericParameters());
            Attributes($"attribute of {name}", m.GetCustomAttributes());
            foreach (var ph in m.GetParameters()) Attributes($"parameter attribute of {name}", _md.GetParameter(ph).GetCustomAttributes());
            if (m.RelativeVirtualAddress == 0) return;
            var body = pe.GetMethodBody(m.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
            {
                _via = $"locals of {name}";
                _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null);
            }
            foreach (var region in body.ExceptionRegions)
                if (!region.CatchType.IsNil) Use($"catch in {name}", region.CatchType);
            Il(body.GetILReader(), $"IL of {name}");
        }

        /// <summary>Walks the instruction stream and follows every metadata token an operand carries.</summary>
        private void Il(BlobReader il, string via)
        {
            while (il.RemainingBytes > 0)
            {
                ushort code = il.ReadByte();
                if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
                if (!Operands.TryGetValue(code, out var operand)) throw new InvalidDataException($"{via}: unknown opcode 0x{code:x}");
                switch (operand)
                {
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.ReadByte(); break;
                    case OperandType.InlineVar: il.ReadUInt16(); break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.ReadInt64(); break;
                    case OperandType.InlineSwitch:
                        int targets = il.ReadInt32();
                        il.Offset += 4 * targets;
                        break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok or OperandType.InlineSig:
                        Use(via, MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    default: il.ReadInt32(); break;   // InlineI, InlineBrTarget, ShortInlineR, InlineString
                }
            }
        }

        private void Constraints(GenericParameterHandleCollection parameters)
        {
            foreach (var gh in parameters)
                foreach (var ch in _md.GetGenericParameter(gh).GetConstraints())
                    Use("generic constraint", _md.GetGenericParameterConstraint(ch).Type);
        }

        private void Attributes(string via, CustomAttributeHandleCollection attributes)
        {
            foreach (var ah in attributes) Use(via, _md.GetCustomAttribute(ah).Constructor);
        }

        /// <summary>Records the type (or the declaring type of the member) a handle names, and the types in its signature.</summary>
        private void Use(string via, EntityHandle h)
        {
            if (h.IsNil) return;
            string saved = _via;
            _via = via;
            switch (h.Kind)
            {
                case HandleKind.TypeDefinition: Defined((TypeDefinitionHandle)h); break;
                case HandleKind.TypeReference: Referenced((TypeReferenceHandle)h); break;
                case HandleKind.TypeSpecification: _md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(this, null); break;
                case HandleKind.MethodDefinition: Defined(_md.GetMethodDefinition((MethodDefinitionHandle)h).GetDeclaringType()); break;
                case HandleKind.FieldDefinition: Defined(_md.GetFieldDefinition((FieldDefinitionHandle)h).GetDeclaringType()); break;
                case HandleKind.MemberReference:
                    var mr = _md.GetMemberReference((MemberReferenceHandle)h);
                    Use(via, mr.Parent);
                    if (mr.GetKind() == MemberReferenceKind.Method) mr.DecodeMethodSignature(this, null);
                    else mr.DecodeFieldSignature(this, null);
                    break;
                case HandleKind.MethodSpecification:
                    var ms = _md.GetMethodSpecification((MethodSpecificationHandle)h);
                    Use(via, ms.Method);
                    ms.DecodeSignature(this, null);
                    break;
                case HandleKind.StandaloneSignature:
                    var sig = _md.GetStandaloneSignature((StandaloneSignatureHandle)h);
                    if (sig.GetKind() == StandaloneSignatureKind.Method) sig.DecodeMethodSignature(this, null);
                    break;
            }
            _via = saved;
        }

        private (string Namespace, string Name) Outermost(TypeDefinitionHandle th)
        {
            var t = _md.GetTypeDefinition(th);
            while (t.GetDeclaringType() is { IsNil: false } outer) t = _md.GetTypeDefinition(outer);
            return (_md.GetString(t.Namespace), _md.GetString(t.Name));
        }

        private void Defined(TypeDefinitionHandle th)
        {
            var (ns, name) = Outermost(th);
            Add(ThisAssembly, ns, name);
        }

        private void Referenced(TypeReferenceHandle rh)
        {
            var r = _md.GetTypeReference(rh);
            while (r.ResolutionScope.Kind == HandleKind.TypeReference) r = _md.GetTypeReference((TypeReferenceHandle)r.ResolutionScope);
            string assembly = r.ResolutionScope.Kind == HandleKind.AssemblyReference
                ? _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)r.ResolutionScope).Name)
                : ThisAssembly;
            Add(assembly, _md.GetString(r.Namespace), _md.GetString(r.Name));
        }

        private void Add(string assembly, string ns, string name)
        {
            if (_seen.Add((_fromNs, _fromType, assembly, ns, name))) Uses.Add(new TypeUse(_fromNs, _fromType, assembly, ns, name, _via));
        }

        // ISignatureTypeProvider: decoding a signature calls these for every type in it; the named ones are recorded.
        public int GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) { Defined(handle); return 0; }
        public int GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) { Referenced(handle); return 0; }
        public int GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
            return 0;
        }
        public int GetArrayType(int elementType, ArrayShape shape) => 0;
        public int GetByReferenceType(int elementType) => 0;
        public int GetFunctionPointerType(MethodSignature<int> signature) => 0;
        public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => 0;
        public int GetGenericMethodParameter(object? genericContext, int index) => 0;
        public int GetGenericTypeParameter(object? genericContext, int index) => 0;
        public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => 0;
        public int GetPinnedType(int elementType) => 0;
        public int GetPointerType(int elementType) => 0;
        public int GetPrimitiveType(PrimitiveTypeCode typeCode) => 0;
        public int GetSZArrayType(int elementType) => 0;
    }
}
