using System.Text.Json;
using ModelLibrary.Formats;
using ModelLibrary.Library;
using ModelLibrary.Sources.Stores;
using ModelLibrary.Tests.Formats;
using ModelLibrary.Tests.Validation;

namespace ModelLibrary.Tests.Sources;

/// <summary>
/// Export-LibraryModel -To Ollama and the chat template: Ollama renders prompts with a Go template (ollama/ollama
/// server/images.go GetModel parses the template layer with template.Parse), and `ollama create` turns a GGUF's Jinja
/// chat template of a known family into its Go template (server/model.go detectChatTemplate). A Jinja text in the
/// template layer would fail to parse, so the model would not load: it must never be written there.
/// </summary>
public class OllamaExportTests
{
    static byte[] Gguf(string? chatTemplate)
    {
        var builder = new GgufBuilder().String("general.architecture", "qwen2").String("general.name", "chat");
        if (chatTemplate is not null)
        {
            builder.String("tokenizer.chat_template", chatTemplate);
        }

        return builder.Tensor("token_embd.weight", 0, 8, 4).Build();
    }

    static async Task<(JsonElement Manifest, string Root)> ExportAsync(TestLibrary lib, string fileName, byte[] gguf)
    {
        lib.Write(Path.Combine("llama-cpp", fileName), gguf);
        var exporter = new ModelExporter(lib.Service);
        var root = Path.Combine(lib.Outside, "ollama");
        var plan = await exporter.PlanAsync(Path.GetFileNameWithoutExtension(fileName), ModelExporter.Ollama, root, "chat:test", CancellationToken.None);
        var result = await exporter.ExportAsync(plan, force: false, CancellationToken.None);
        Assert.Equal("chat:test", result.Name);
        return (JsonDocument.Parse(File.ReadAllText(result.Path)).RootElement, root);
    }

    static string Blob(string root, JsonElement layer) => File.ReadAllText(OllamaStore.BlobPath(root, layer.GetProperty("digest").GetString())!);

    [Fact]
    public async Task A_ChatML_template_becomes_a_Go_template_layer_with_its_stop_words()
    {
        using var lib = new TestLibrary();
        var jinja = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        var (manifest, root) = await ExportAsync(lib, "chatml.gguf", Gguf(jinja));
        var layers = manifest.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal("application/vnd.ollama.image.model", layers[0].GetProperty("mediaType").GetString());
        var template = Blob(root, layers.Single(l => l.GetProperty("mediaType").GetString() == "application/vnd.ollama.image.template"));
        Assert.Contains("{{ .Content }}", template);
        Assert.Contains("<|im_start|>", template);
        Assert.DoesNotContain("{%", template);
        var stop = JsonDocument.Parse(Blob(root, layers.Single(l => l.GetProperty("mediaType").GetString() == "application/vnd.ollama.image.params"))).RootElement.GetProperty("stop");
        Assert.Contains("<|im_end|>", stop.EnumerateArray().Select(s => s.GetString()));
        var config = JsonDocument.Parse(Blob(root, manifest.GetProperty("config"))).RootElement;
        Assert.Equal("qwen2", config.GetProperty("model_family").GetString());
        Assert.Equal("gguf", config.GetProperty("model_format").GetString());
    }

    [Fact]
    public async Task A_chat_template_of_no_known_family_gets_no_template_layer()
    {
        using var lib = new TestLibrary();
        var (manifest, _) = await ExportAsync(lib, "odd.gguf", Gguf("{% for m in messages %}<<{{ m['content'] }}>>{% endfor %}"));
        Assert.DoesNotContain(manifest.GetProperty("layers").EnumerateArray(), l => l.GetProperty("mediaType").GetString() == "application/vnd.ollama.image.template");
    }

    [Fact]
    public async Task The_exported_store_reads_back_as_an_OllamaStore_with_the_template_as_metadata()
    {
        using var lib = new TestLibrary();
        var (_, root) = await ExportAsync(lib, "llama3.gguf", Gguf("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"));
        var read = await new OllamaStore("back", root).ReadAsync(CancellationToken.None);
        var model = Assert.Single(read.Models);
        Assert.Equal("chat:test", model.Id);
        Assert.Equal("Ollama", model.ExternalStore);
        Assert.Contains("<|start_header_id|>", (string)model.AdditionalProperties["template"]!);
        Assert.Equal(ModelFileFormat.Gguf, ModelFileInspector.DetectFormat(model.LocalPath!));
        Assert.Empty(read.Warnings);
    }
}
