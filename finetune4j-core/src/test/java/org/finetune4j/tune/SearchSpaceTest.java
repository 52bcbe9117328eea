package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finetune4j.tune.Distribution.Categorical;
import org.finetune4j.tune.Distribution.IntRange;
import org.finetune4j.tune.Distribution.LogUniform;
import org.finetune4j.tune.Distribution.Uniform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SearchSpaceTest {
    @TempDir
    Path dir;

    @Test
    void parsesEveryForm() {
        SearchSpace space = SearchSpace.parse(List.of(
                "warmup_ratio=uniform(0, 0.2)", "learning_rate=loguniform(1e-5,3e-4)", "num_train_epochs=int(1,5)",
                "max_length=int(64,256,64)", "lora_r=int(2,64,log)",
                "per_device_train_batch_size=choice(16, 32)", "mix=choice(0.1,2,true,adamw,\"a,b\",'sgd',1e3)"));
        assertEquals(List.of("warmup_ratio", "learning_rate", "num_train_epochs", "max_length", "lora_r",
                "per_device_train_batch_size", "mix"), List.copyOf(space.params().keySet()));
        assertEquals(new Uniform(0, 0.2), space.params().get("warmup_ratio"));
        assertEquals(new LogUniform(1e-5, 3e-4), space.params().get("learning_rate"));
        assertEquals(new IntRange(1, 5, 1, false), space.params().get("num_train_epochs"));
        assertEquals(new IntRange(64, 256, 64, false), space.params().get("max_length"));
        assertEquals(new IntRange(2, 64, 1, true), space.params().get("lora_r"));
        assertEquals(new Categorical(List.of(16, 32)), space.params().get("per_device_train_batch_size"));
        assertEquals(new Categorical(List.of(0.1, 2, true, "adamw", "a,b", "sgd", 1000.0)), space.params().get("mix"));
    }

    @Test
    void readsJsonAndYamlFiles() throws IOException {
        Path json = dir.resolve("space.json");
        Files.writeString(json, """
                {"learning_rate": {"type": "loguniform", "low": 1e-5, "high": 3e-4},
                 "num_train_epochs": {"type": "int", "low": 1, "high": 5},
                 "lora_r": {"type": "int", "low": 4, "high": 32, "log": true},
                 "per_device_train_batch_size": {"type": "choice", "values": [16, 32]},
                 "optim": {"type": "choice", "values": ["adamw", 0.5, false]},
                 "warmup_ratio": "uniform(0,0.1)"}
                """);
        SearchSpace fromJson = SearchSpace.read(json);
        assertEquals(Map.of("learning_rate", new LogUniform(1e-5, 3e-4),
                "num_train_epochs", new IntRange(1, 5, 1, false),
                "lora_r", new IntRange(4, 32, 1, true),
                "per_device_train_batch_size", new Categorical(List.of(16, 32)),
                "optim", new Categorical(List.of("adamw", 0.5, false)),
                "warmup_ratio", new Uniform(0, 0.1)), fromJson.params());
        assertEquals("learning_rate", fromJson.params().keySet().iterator().next());

        Path yaml = dir.resolve("space.yml");
        Files.writeString(yaml, """
                learning_rate: {type: loguniform, low: 1.0e-5, high: 3.0e-4}
                max_length:
                  type: int
                  low: 64
                  high: 256
                  step: 64
                per_device_train_batch_size: choice(16,32)
                """);
        assertEquals(Map.of("learning_rate", new LogUniform(1e-5, 3e-4),
                "max_length", new IntRange(64, 256, 64, false),
                "per_device_train_batch_size", new Categorical(List.of(16, 32))), SearchSpace.read(yaml).params());
    }

    private static String parseError(String spec) {
        return assertThrows(IllegalArgumentException.class, () -> SearchSpace.parse(List.of(spec))).getMessage();
    }

    @Test
    void specErrorsNameTheSpecAndTheProblem() {
        assertEquals("Search space spec 'lr=gauss(0,1)': unknown distribution 'gauss'; use uniform(a,b), "
                + "loguniform(a,b), int(a,b), int(a,b,step), int(a,b,log) or choice(x,y,...)", parseError("lr=gauss(0,1)"));
        assertEquals("Search space spec 'lr=uniform(1,1)': uniform needs low < high, got low=1.0 high=1.0",
                parseError("lr=uniform(1,1)"));
        assertEquals("Search space spec 'lr=loguniform(0,1)': loguniform needs low > 0, got low=0.0; use uniform "
                + "for a range that reaches 0 or below", parseError("lr=loguniform(0,1)"));
        assertEquals("Search space spec 'bs=choice()': choice needs at least one value, e.g. choice(16,32)",
                parseError("bs=choice()"));
        assertEquals("Search space spec 'bs=choice(16,16)': choice lists 16 twice; list each value once",
                parseError("bs=choice(16,16)"));
        assertEquals("Search space spec 'lr': expected name=distribution, e.g. learning_rate=loguniform(1e-5,3e-4)",
                parseError("lr"));
        assertEquals("Search space spec 'n=int(1,2.5)': high must be an integer, got '2.5'", parseError("n=int(1,2.5)"));
        assertEquals("Search space spec 'n=int(1,10,4)': int(1,10,4): high - low must be a multiple of step; "
                + "use high=9", parseError("n=int(1,10,4)"));
        assertEquals("Search space spec 'n=int(0,8,log)': int(...,log) needs low >= 1, got low=0",
                parseError("n=int(0,8,log)"));
        assertEquals("Search space spec 'lr=uniform(0,x)': high must be a number, got 'x'", parseError("lr=uniform(0,x)"));
        assertEquals("Search space spec 'lr=uniform(0)': uniform takes two numbers (low, high), got 1 argument(s)",
                parseError("lr=uniform(0)"));
        assertEquals("Search space spec 'lr=0.1': expected uniform(a,b), loguniform(a,b), int(a,b), int(a,b,step), "
                + "int(a,b,log) or choice(x,y,...), got '0.1'", parseError("lr=0.1"));
        assertEquals("Search space spec '1lr=uniform(0,1)': parameter name '1lr' is not a name (letters, digits, "
                + "'_', '.', '-'; not starting with a digit)", parseError("1lr=uniform(0,1)"));
        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
                () -> SearchSpace.parse(List.of("lr=uniform(0,1)", "lr=loguniform(1e-5,1e-3)")));
        assertEquals("Search space spec 'lr=loguniform(1e-5,1e-3)': parameter 'lr' is given twice; give each "
                + "parameter once", duplicate.getMessage());
    }

    private String readError(String fileName, String content) throws IOException {
        Path file = dir.resolve(fileName);
        Files.writeString(file, content);
        return assertThrows(IllegalArgumentException.class, () -> SearchSpace.read(file)).getMessage()
                .replace(file.toString(), fileName);
    }

    @Test
    void fileErrorsNameTheFileAndTheParameter() throws IOException {
        assertEquals("Search space file s.json, parameter 'lr': unknown distribution type 'normal'; use uniform, "
                + "loguniform, int or choice", readError("s.json", "{\"lr\": {\"type\": \"normal\", \"low\": 0}}"));
        assertEquals("Search space file s.json, parameter 'lr': unknown key 'hi' for type uniform; allowed: "
                + "[high, low, type]", readError("s.json", "{\"lr\": {\"type\": \"uniform\", \"low\": 0, \"hi\": 1}}"));
        assertEquals("Search space file s.json, parameter 'bs': choice needs at least one value, e.g. choice(16,32)",
                readError("s.json", "{\"bs\": {\"type\": \"choice\", \"values\": []}}"));
        assertEquals("Search space file s.yaml, parameter 'n': \"high\" must be an integer, got 2.5",
                readError("s.yaml", "n: {type: int, low: 1, high: 2.5}"));
        assertEquals("Search space file s.yaml, parameter 'lr': loguniform needs low > 0, got low=-1.0; use uniform "
                + "for a range that reaches 0 or below", readError("s.yaml", "lr: loguniform(-1,1)"));
        assertEquals("Search space file s.txt: unknown format; name it .json, .yaml or .yml", readError("s.txt", "{}"));
        assertEquals("Search space file s.json: expected a map from parameter name to distribution, e.g. "
                + "{\"learning_rate\": \"loguniform(1e-5,3e-4)\"}", readError("s.json", "[1, 2]"));
        String broken = readError("s.json", "{\"lr\": ");
        assertEquals(true, broken.startsWith("Search space file s.json: not valid JSON: "), broken);
        assertEquals(true, broken.contains("(line 1, column"), broken);
    }
}
