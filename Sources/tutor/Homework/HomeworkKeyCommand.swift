import ArgumentParser
import Lessons

extension HomeworkCommand {
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Print the answer key of an exercise for one student (for teachers)."),
            discussion: translated("""
                The text output is a valid plain-text answers file; the --json output is a valid JSON \
                answers file, so `tutor homework key cam-1 --student alice --json > key.json` and \
                `tutor homework check cam-1 --student alice --answers key.json` pass. A lesson name \
                prints the keys of all its exercises (text only). A course's keys need its course file \
                (--course); without it, the key is the practice key, which anyone can print.
                """))

        @OptionGroup var exercise: ExerciseOrLessonArgument
        @OptionGroup var student: StudentOption
        @OptionGroup var course: CourseOption
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if output.json && exercise.templates.count != 1 {
                throw ValidationError(translated("--json prints one answers file, so it needs one exercise id such as {$1}, not the lesson `{$2}`.",
                                                 with: "\(exercise.id)-1", exercise.id))
            }
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            let course = try course.load()
            let mode = course?.mode ?? .practice
            let keys = exercise.templates.map { HomeworkChecker.key(for: $0.make(student: student.student, course: course)) }
            if output.json {
                print(HomeworkRendering.json(keys[0]).rendered())
            } else {
                print(keys.map { key in
                    HomeworkRendering.text(key, title: translated("Answer key of {$1} for student {$2} ({$3})",
                                                                  with: key.exercise ?? "", key.student ?? "", translated(mode.label)))
                }.joined(separator: "\n\n"))
            }
        }
    }
}
