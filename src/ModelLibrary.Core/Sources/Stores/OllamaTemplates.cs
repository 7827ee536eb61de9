namespace ModelLibrary.Sources.Stores;

/// <summary>
/// Ollama renders prompts with Go templates (its template layer), not the GGUF's Jinja chat template: a Jinja text in
/// that layer would not parse, and the model would not load. As <c>ollama create</c> does (server/model.go
/// detectChatTemplate matches the GGUF's chat template against known ones), a chat template of a known family is
/// given its Go template and stop words here; one of no known family gets no template layer.
/// </summary>
public static class OllamaTemplates
{
    public sealed record Known(string Family, string Template, string[] Stop);

    public static Known? ForChatTemplate(string? chatTemplate)
    {
        if (string.IsNullOrWhiteSpace(chatTemplate))
        {
            return null;
        }

        if (chatTemplate.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            return new("chatml",
                "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
                new[] { "<|im_start|>", "<|im_end|>" });
        }

        if (chatTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal))
        {
            return new("llama3",
                "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
                new[] { "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>" });
        }

        if (chatTemplate.Contains("<start_of_turn>", StringComparison.Ordinal))
        {
            return new("gemma",
                "{{- range .Messages }}<start_of_turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n",
                new[] { "<start_of_turn>", "<end_of_turn>" });
        }

        if (chatTemplate.Contains("<|user|>", StringComparison.Ordinal) && chatTemplate.Contains("<|end|>", StringComparison.Ordinal))
        {
            return new("phi3",
                "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n",
                new[] { "<|end|>", "<|user|>", "<|assistant|>" });
        }

        if (chatTemplate.Contains("[INST]", StringComparison.Ordinal))
        {
            return new("mistral",
                "{{- range .Messages }}{{ if eq .Role \"user\" }}[INST] {{ .Content }} [/INST]{{ else if eq .Role \"assistant\" }}{{ .Content }}</s>{{ end }}{{ end }}",
                new[] { "[INST]", "[/INST]" });
        }

        return null;
    }
}
