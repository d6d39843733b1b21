fn main() {
    yew::Renderer::<client::app::App>::new().render();
}
