//! The `settings!` macro: one table of settings in, the config sections, the
//! resource properties, the synthesiser's mapping and the schema fragments out.
//!
//! An entry (the fields in this order; the bracketed ones may be left out):
//!
//! ```text
//! /// The doc line: the field's rustdoc and the schema's description.
//! field: Type {
//!     config: none | (general "Key" KIND) | (SSO "Key" KIND) | (general derived),
//!     property: none | ("Key" KIND),
//!     [default: EXPR,]   // the value when absent (KIND default)
//!     [read: CLOSURE,]   // |walker, obj| -> Option<Type>: a hand-written config reader
//!     [check: CLOSURE,]  // |walker, obj| -> (): a check after the read
//!     [synth: CLOSURE,]  // |config, cx| -> the property's value: the synthesiser's
//!                        //   mapping, when it is not the config value itself
//!     [schema: EXPR,]    // JSON merged over the type's schema fragment (title,
//!                        //   examples, ...); the whole fragment when `read` is given
//! }
//! ```
//!
//! KIND is `required`, `optional` or `default`. Closures may name the fields read
//! before them (each as `Option<_>`: `None` when it was invalid). Entries are read in
//! table order, so problems are reported in that order.

/// Sorts the table's entries into the `general` and `SSO` sections and the
/// properties, then writes them out (see the module docs for an entry's shape).
macro_rules! settings {
    (@sort [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*]) => {
        settings!(@section
            "The `general` section: naming, documentation and notification settings."
            General read_general general_schema GENERAL_KEYS "general" [$($gk)*] $($g)*);
        settings!(@section
            "The `SSO` section: the AD domain, the sync scope and how it is kept."
            Sso read_sso sso_schema SSO_KEYS "SSO" [$($sk)*] $($s)*);
        settings!(@properties $($p)*);
    };
    (@sort [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*]
        $(#[doc = $doc:literal])+
        $field:ident : $ty:ty {
            config: $cfg:tt,
            property: $prop:tt,
            $(default: $default:expr,)?
            $(read: $read:expr,)?
            $(check: $check:expr,)?
            $(synth: $synth:expr,)?
            $(schema: $schema:expr,)?
        }
        $($rest:tt)*
    ) => {
        settings!(@route $cfg $prop
            { [$($doc)+] $field [$ty] $cfg $prop [$($default)?] [$($read)?] [$($check)?] [$($synth)?] [$($schema)?] }
            [$($g)*] [$($gk)*] [$($s)*] [$($sk)*] [$($p)*] $($rest)*);
    };

    (@route none none $e:tt $($rest:tt)*) => {
        compile_error!("a setting needs a config key, a property, or both");
    };
    (@route none ($($pp:tt)*) $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)*] [$($gk)*] [$($s)*] [$($sk)*] [$($p)* $e] $($rest)*);
    };
    (@route (general derived) none $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)* $e] [$($gk)*] [$($s)*] [$($sk)*] [$($p)*] $($rest)*);
    };
    (@route (general $key:literal $kind:ident) none $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)* $e] [$($gk)* $key,] [$($s)*] [$($sk)*] [$($p)*] $($rest)*);
    };
    (@route (general $key:literal $kind:ident) ($($pp:tt)*) $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)* $e] [$($gk)* $key,] [$($s)*] [$($sk)*] [$($p)* $e] $($rest)*);
    };
    (@route (SSO $key:literal $kind:ident) none $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)*] [$($gk)*] [$($s)* $e] [$($sk)* $key,] [$($p)*] $($rest)*);
    };
    (@route (SSO $key:literal $kind:ident) ($($pp:tt)*) $e:tt
        [$($g:tt)*] [$($gk:tt)*] [$($s:tt)*] [$($sk:tt)*] [$($p:tt)*] $($rest:tt)*) => {
        settings!(@sort [$($g)*] [$($gk)*] [$($s)* $e] [$($sk)* $key,] [$($p)* $e] $($rest)*);
    };

    // A config section: its struct, its keys, its reader and its schema properties.
    (@section $sdoc:literal $name:ident $reader:ident $schema_fn:ident $keys:ident $section:literal
        [$($key:tt)*]
        $({ [$($doc:literal)*] $field:ident [$ty:ty] $cfg:tt $prop:tt
            [$($default:expr)?] [$($read:expr)?] [$($check:expr)?] [$($synth:expr)?] [$($schema:expr)?] })*
    ) => {
        #[doc = $sdoc]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: settings!(@ctype $cfg $ty), )*
        }

        /// The keys of the section, in the order they are read.
        pub(crate) const $keys: &[&str] = &[$($key)*];

        /// Reads the section, reporting each problem at its key, in table order.
        pub(crate) fn $reader(w: &mut Walker, value: &Value) -> Option<$name> {
            let obj = w.object($section, value, $keys)?;
            $(
                let $field = settings!(@read w obj $cfg $ty [$($default)?] [$($read)?]);
                settings!(@check w obj [$($check)?]);
            )*
            Some($name { $( $field: $field?, )* })
        }

        /// The schema's `properties` of the section, and its required keys.
        pub(crate) fn $schema_fn() -> (Map<String, Value>, Vec<&'static str>) {
            let mut properties = Map::new();
            let mut required: Vec<&'static str> = Vec::new();
            $( settings!(@schema properties required $cfg $ty [$($doc)*] [$($default)?] [$($read)?] [$($schema)?]); )*
            (properties, required)
        }
    };

    (@ctype ($sec:ident $key:literal optional) $ty:ty) => { Option<$ty> };
    (@ctype $cfg:tt $ty:ty) => { $ty };

    (@read $w:ident $obj:ident $cfg:tt $ty:ty [$($default:expr)?] [$read:expr]) => {
        custom($w, &$obj, $read)
    };
    (@read $w:ident $obj:ident ($sec:ident $key:literal required) $ty:ty [] []) => {
        $w.required_setting::<$ty>(&$obj, $key)
    };
    (@read $w:ident $obj:ident ($sec:ident $key:literal optional) $ty:ty [] []) => {
        $w.optional_setting::<$ty>(&$obj, $key)
    };
    (@read $w:ident $obj:ident ($sec:ident $key:literal default) $ty:ty [$default:expr] []) => {
        $w.default_setting::<$ty>(&$obj, $key, || $default)
    };

    (@check $w:ident $obj:ident []) => {};
    (@check $w:ident $obj:ident [$check:expr]) => {
        check($w, &$obj, $check);
    };

    (@schema $props:ident $req:ident ($sec:ident derived) $($rest:tt)*) => {};
    (@schema $props:ident $req:ident ($sec:ident $key:literal $kind:ident) $ty:ty
        [$($doc:literal)*] [$($default:expr)?] [$($read:expr)?] [$($schema:expr)?]) => {
        $props.insert(
            $key.to_owned(),
            schema::setting(
                settings!(@base [$($read)?] $ty),
                &[$($doc),*],
                settings!(@required $kind),
                settings!(@schema_default [$($read)?] $ty [$($default)?]),
                settings!(@extra [$($schema)?]),
            ),
        );
        if settings!(@required $kind) {
            $req.push($key);
        }
    };
    (@base [] $ty:ty) => { Some(<$ty as Property>::schema()) };
    (@base [$read:expr] $ty:ty) => { None };
    (@required required) => { true };
    (@required $kind:ident) => { false };
    (@schema_default [] $ty:ty [$default:expr]) => {
        Some(Value::String(<$ty as Property>::write(&$default)))
    };
    (@schema_default [$($read:expr)?] $ty:ty [$($default:expr)?]) => { None };
    (@extra []) => { Value::Null };
    (@extra [$schema:expr]) => { $schema };

    // The resource properties: the struct, the parser, the writer and the mapping.
    (@properties
        $({ [$($doc:literal)*] $field:ident [$ty:ty] $cfg:tt ($key:literal $kind:ident)
            [$($default:expr)?] [$($read:expr)?] [$($check:expr)?] [$($synth:expr)?] [$($schema:expr)?] })*
    ) => {
        /// The resource properties, validated.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Properties {
            $( $(#[doc = $doc])* pub $field: settings!(@ptype $kind $ty), )*
        }

        /// Every property key, in table order.
        pub const KEYS: &[&str] = &[$($key),*];

        /// Parses `ResourceProperties`, collecting every problem (each naming its key).
        /// Unknown keys are ignored, as CloudFormation may add its own.
        pub fn parse(props: &Map<String, Value>) -> Result<Properties, Vec<String>> {
            let mut problems = Vec::new();
            $( let $field = field::<$ty>(
                props,
                $key,
                settings!(@absent $kind [$($default)?]),
                &mut problems,
            ); )*
            let built = (|| Some(Properties {
                $( $field: settings!(@take $kind $field?), )*
            }))();
            match built {
                Some(properties) if problems.is_empty() => Ok(properties),
                _ => Err(problems),
            }
        }

        impl Properties {
            /// The properties as the template writes them: string scalars, optional
            /// ones left out when unset.
            pub fn to_map(&self) -> Map<String, Value> {
                let mut map = Map::new();
                $( settings!(@write $kind map, $key, &self.$field); )*
                map
            }

            /// The properties the synthesiser writes for a config.
            pub fn of_config(config: &Config, cx: &Context<'_>) -> Self {
                Self {
                    $( $field: settings!(@synth config cx $cfg $kind $field [$($synth)?]), )*
                }
            }
        }
    };

    (@ptype optional $ty:ty) => { Option<$ty> };
    (@ptype $kind:ident $ty:ty) => { $ty };
    (@absent required []) => { Absent::Required };
    (@absent optional []) => { Absent::Optional };
    (@absent default [$default:expr]) => { Absent::Default($default) };
    (@take optional $value:expr) => { $value };
    (@take $kind:ident $value:expr) => { $value? };
    (@write optional $map:ident, $key:literal, $value:expr) => {
        if let Some(v) = $value {
            $map.insert($key.to_owned(), Value::String(v.write()));
        }
    };
    (@write $kind:ident $map:ident, $key:literal, $value:expr) => {
        $map.insert($key.to_owned(), Value::String($value.write()));
    };

    (@synth $config:ident $cx:ident $cfg:tt $kind:ident $field:ident [$synth:expr]) => {
        synth_with($config, $cx, $synth)
    };
    (@synth $config:ident $cx:ident (general $key:literal $ckind:ident) $kind:ident $field:ident []) => {
        settings!(@lift $ckind $kind &$config.general.$field)
    };
    (@synth $config:ident $cx:ident (SSO $key:literal $ckind:ident) $kind:ident $field:ident []) => {
        settings!(@lift $ckind $kind &$config.sso.$field)
    };
    (@lift required optional $value:expr) => { Some(lift($value)) };
    (@lift default optional $value:expr) => { Some(lift($value)) };
    (@lift optional optional $value:expr) => { lift($value) };
    (@lift required required $value:expr) => { lift($value) };
    (@lift required default $value:expr) => { lift($value) };
    (@lift default default $value:expr) => { lift($value) };

    // Entry (last, as it matches anything): sort every entry into its buckets.
    ($($entries:tt)*) => {
        settings!(@sort [] [] [] [] [] $($entries)*);
    };
}
