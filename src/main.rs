fn main() -> std::process::ExitCode {
    mlwatch::cli::main()
}
