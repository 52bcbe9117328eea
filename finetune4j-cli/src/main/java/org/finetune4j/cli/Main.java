package org.finetune4j.cli;

import java.io.PrintWriter;
import org.finetune4j.api.ParentWatch;
import org.finetune4j.io.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The ./finetune4j command: each subcommand parses options, calls the library, and prints. */
@Command(name = "finetune4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Fine-tune, evaluate and serve BERT-family text classifiers on the JVM.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class, StatsCommand.class, CompareCommand.class, TuneCommand.class,
                BenchCommand.class, ResultsCommand.class, ServeCommand.class, InspectCommand.class, EncodeCommand.class, ImportOnnxCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        ParentWatch.start(); // a trial or comparison child JVM ends with the tune or compare that started it
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handleError);
        return cl;
    }

    /**
     * Errors a user can fix (bad files, bad options) print one clear message and exit 2; anything
     * else is a bug and prints its stack trace.
     */
    private static int handleError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof CheckpointException || e instanceof IllegalArgumentException || e instanceof UserError
                || e instanceof org.finetune4j.train.TrainingDivergedException
                || e instanceof java.io.UncheckedIOException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return 2;
        }
        e.printStackTrace(err);
        err.flush();
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"finetune4j " + (v == null ? "development build" : v)};
        }
    }
}
